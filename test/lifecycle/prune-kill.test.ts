// An interrupted `dag prune` (ORCHESTRATOR.md §10: "never leaves a half-deleted run folder visible as
// a run"; README: a run folder is renamed into runs/.trash before it is removed, and the next prune
// empties the trash). Fifteen runs to delete; each carries extra files (standing for the many
// partition files of a real run) so that deleting one takes tens of milliseconds and a SIGKILL can
// land midway. The prune is killed again and again, at a few delays after its first deletion; after
// every kill the runs folder must be consistent, and the last prune finishes the job.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, copyFixture, dag, dagJson, dagRun, du, labelsFile, ledger, LIFECYCLE_TIMEOUT, objectPath, outputShas, readJson, spawnDag, tempDir } from './helpers.js';

afterAll(cleanup);

const PAD_FILES = 1500;
const PAD_DIR = join('logs', 'partitions');
const RUN_ID = /^[0-9a-f]{32}$/;
const runFolders = (runs: string) => readdirSync(runs).filter((n) => RUN_ID.test(n)).sort();

function pad(runDir: string): void {
  const dir = join(runDir, PAD_DIR);
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < PAD_FILES; i++) writeFileSync(join(dir, `part-${String(i).padStart(5, '0')}.log`), `${i}\n`);
}

/** Every run folder is whole: receipt, ledger outputs with their recorded digests, every extra file. */
function expectWhole(runs: string, id: string, padded: boolean): void {
  const dir = join(runs, id);
  expect(existsSync(join(dir, 'run_receipt.json')), `${id} has its receipt`).toBe(true);
  expect(readJson(join(dir, 'run_receipt.json')).run_id).toBe(id);
  const outputs = ledger(dir).flatMap((e) => (e.action === 'failed' || e.action === 'skipped' ? [] : (e.outputs ?? [])));
  expect(outputs.length, `${id} has published outputs`).toBeGreaterThan(0);
  for (const o of outputs) {
    const abs = join(dir, o.path);
    expect(existsSync(abs), `${id}: ${o.path}`).toBe(true);
    expect(createHash('sha256').update(readFileSync(abs)).digest('hex'), `${id}: ${o.path}`).toBe(o.sha256);
  }
  if (padded) expect(readdirSync(join(dir, PAD_DIR)).length, `${id}: extra files`).toBe(PAD_FILES);
}

describe('dag prune killed with SIGKILL midway', () => {
  it('leaves dag runs consistent after every kill, and a later prune empties runs/.trash and deletes the rest', { timeout: 3 * LIFECYCLE_TIMEOUT }, async () => {
    const root = copyFixture({ retention: '{keep_labels: [authority, candidate, last-good, witness], keep_last: 1}' });
    const runs = join(tempDir('runs'), 'runs');

    const authority = (await dagRun(root, runs, ['--no-promote', '--label', 'authority'])).run_id;
    const doomed: string[] = [];
    for (let i = 0; i < 15; i++) {
      // three runs of their own seeds write cache objects only they use; the others are cache hits
      const seed = i < 3 ? ['--seed', String(201 + i)] : [];
      doomed.push((await dagRun(root, runs, [...seed, '--no-promote'])).run_id);
    }
    const newest = (await dagRun(root, runs, ['--no-promote'])).run_id;
    const kept = [authority, newest].sort();
    for (const id of doomed) pad(join(runs, id));
    const keptShas = new Set([...outputShas(join(runs, authority)), ...outputShas(join(runs, newest))]);
    const doomedOnly = [...new Set(doomed.flatMap((id) => [...outputShas(join(runs, id))]))].filter((sha) => !keptShas.has(sha));
    expect(doomedOnly.length).toBeGreaterThan(0);

    const plan = await dagJson(root, runs, ['prune']);
    expect(plan.rows.filter((r: { action: string }) => r.action === 'DELETE').map((r: { run: string }) => r.run).sort()).toEqual([...doomed].sort());

    const caught: { delay: number; before: number; after: number; trash: string[] }[] = [];
    for (const delay of [0, 10, 40, 120, 0, 25]) {
      const before = runFolders(runs).length;
      if (before === kept.length) break; // everything already deleted
      const { child, done } = spawnDag(root, runs, ['prune', '--yes', '--json']);
      // wait for the first run folder to leave the listing, then a little more, then kill
      const t0 = Date.now();
      while (child.exitCode === null && runFolders(runs).length === before && Date.now() - t0 < 60_000) await new Promise((r) => setImmediate(r));
      if (delay > 0) await sleep(delay);
      child.kill('SIGKILL');
      const r = await done;
      const after = runFolders(runs);
      const trash = existsSync(join(runs, '.trash')) ? readdirSync(join(runs, '.trash')) : [];
      caught.push({ delay, before, after: after.length, trash });
      expect(r.code === null || r.code === 0, `prune ended with ${r.code}: ${r.stderr}`).toBe(true);

      // consistent: the listing is exactly the folders, each whole; kept runs verify; labels hold
      const listed = await dagJson<{ id: string; status: string }[]>(root, runs, ['runs']);
      expect(listed.map((x) => x.id).sort()).toEqual(after);
      for (const id of after) expectWhole(runs, id, doomed.includes(id));
      for (const id of kept) expect(after).toContain(id);
      for (const id of after) expect(id === authority || id === newest || doomed.includes(id)).toBe(true);
      for (const t of trash) expect(after).not.toContain(t);
      expect(labelsFile(runs)).toEqual({ authority: [authority] });
    }
    console.info('prune-kill:', JSON.stringify(caught.map(({ trash, ...c }) => ({ ...c, trash: trash.length }))));
    for (const id of kept) {
      const v = await dag(root, runs, ['verify', id]);
      expect(v.code, v.stdout + v.stderr).toBe(0);
    }
    // at least one kill landed midway: some runs deleted, not all of them
    expect(caught.some((c) => c.after < c.before && c.after > kept.length), JSON.stringify(caught)).toBe(true);

    const last = await dagJson(root, runs, ['prune', '--yes']);
    expect(last.deleted.runs).toBe(last.rows.filter((r: { action: string }) => r.action === 'DELETE').length);
    expect(runFolders(runs)).toEqual(kept);
    expect(existsSync(join(runs, '.trash'))).toBe(false);
    for (const sha of keptShas) expect(existsSync(objectPath(runs, sha)), `kept object ${sha}`).toBe(true);
    for (const sha of doomedOnly) expect(existsSync(objectPath(runs, sha)), `object ${sha} of deleted runs`).toBe(false);
    for (const id of kept) {
      const v = await dag(root, runs, ['verify', id]);
      expect(v.code, v.stdout + v.stderr).toBe(0);
    }
    const nothing = await dagJson(root, runs, ['prune']);
    expect(nothing.rows.filter((r: { action: string }) => r.action === 'DELETE')).toEqual([]);
    expect(nothing.free_bytes).toBe(0);
  });

  // What a prune killed between its rename into runs/.trash and the rest leaves behind, made by hand
  // (the rename is the first thing executePrune does to a run, so this is exactly that state).
  async function leftoverInTrash(): Promise<{ root: string; runs: string; trashed: string; others: string[] }> {
    const root = copyFixture({ retention: '{keep_labels: [authority, candidate, last-good, witness], keep_last: 1}' });
    const runs = join(tempDir('runs'), 'runs');
    const authority = (await dagRun(root, runs, ['--no-promote', '--label', 'authority'])).run_id;
    const trashed = (await dagRun(root, runs, ['--seed', '301', '--no-promote', '--label', 'mine'])).run_id;
    const newest = (await dagRun(root, runs, ['--no-promote'])).run_id;
    mkdirSync(join(runs, '.trash'));
    renameSync(join(runs, trashed), join(runs, '.trash', trashed));
    return { root, runs, trashed, others: [authority, newest].sort() };
  }

  it('the next prune empties runs/.trash, and the total it prints is what du sees freed, leftovers included', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    const { root, runs, trashed, others } = await leftoverInTrash();
    const listed = await dagJson<{ id: string }[]>(root, runs, ['runs']);
    expect(listed.map((r) => r.id).sort()).toEqual(others);
    const trashBytes = du(join(runs, '.trash'));
    expect(trashBytes).toBeGreaterThan(0);

    const dry = await dagJson(root, runs, ['prune']);
    expect(dry.rows.map((r: { run: string }) => r.run)).not.toContain(trashed);
    const before = du(runs);
    const done = await dagJson(root, runs, ['prune', '--yes']);
    const freed = before - du(runs);
    expect(existsSync(join(runs, '.trash'))).toBe(false);
    expect(runFolders(runs)).toEqual(others);
    expect(freed, `du freed ${freed}; printed ${done.free_bytes}; runs/.trash held ${trashBytes}`).toBe(done.free_bytes);
    expect(dry.free_bytes).toBe(done.free_bytes);
  });

  it('the next prune forgets the labels of a run it finds in runs/.trash', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    const { root, runs, trashed, others } = await leftoverInTrash();
    expect(labelsFile(runs).mine).toEqual([trashed]);
    expect((await dag(root, runs, ['prune', '--yes'])).code).toBe(0);
    expect(existsSync(join(runs, '.trash'))).toBe(false);
    // a label naming a run that no longer exists would make `mine` ambiguous once it names a real run
    expect((await dag(root, runs, ['label', others[0]!, 'mine'])).code).toBe(0);
    expect(labelsFile(runs).mine).toEqual([others[0]]);
    const v = await dag(root, runs, ['verify', 'mine']);
    expect(v.code, v.stderr).toBe(0);
  });
});
