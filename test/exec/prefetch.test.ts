// The thread that makes a run's folders ahead of its tasks (issue 15): it changes how fast a run of
// many cached states publishes, never what it publishes, and a run that stops early leaves no
// empty folder where an output would have been.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FolderPrefetch } from '../../dag/exec/prefetch.js';
import { REPO, runJson, tempDir, type Proj } from '../cache/helpers.js';

/** A bench pipeline of `n` states (bench/gen-pipeline.mjs: a chain, hubs, fan-ins), with a runs folder of its own. */
function pipeline(n: number): Proj {
  const root = tempDir('prefetch-proj');
  execFileSync(process.execPath, [join(REPO, 'bench', 'gen-pipeline.mjs'), String(n), root, '--rows', '5']);
  return { root, runsDir: tempDir('prefetch-runs') };
}

/** Every folder under `dir` (itself included) and every file, by sha256, relative to `dir`. */
function tree(dir: string): { folders: string[]; files: Record<string, string> } {
  const folders: string[] = [];
  const files: Record<string, string> = {};
  const walk = (d: string) => {
    folders.push(relative(dir, d) || '.');
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else files[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return { folders: folders.sort(), files };
}

const emptyFolders = (dir: string) => {
  const out: string[] = [];
  const walk = (d: string) => {
    const entries = readdirSync(d, { withFileTypes: true });
    if (entries.length === 0) out.push(relative(dir, d));
    for (const e of entries) if (e.isDirectory()) walk(join(d, e.name));
  };
  walk(dir);
  return out;
};

describe('FolderPrefetch', () => {
  it('makes the folders in order, counts one that exists, and stops at one it cannot make', async () => {
    const root = tempDir('prefetch');
    writeFileSync(join(root, 'file'), 'x');
    const dirs = [join(root, 'a'), join(root, 'a', 'b'), join(root, 'a'), join(root, 'file', 'c'), join(root, 'd')];
    const p = new FolderPrefetch(dirs, new Map());
    for (let i = 0; i < 500 && !p.has(join(root, 'a', 'b')); i++) await new Promise((r) => setTimeout(r, 10));
    await p.close();
    expect(p.has(join(root, 'a'))).toBe(true);
    expect(p.has(join(root, 'a', 'b'))).toBe(true);
    expect(statSync(join(root, 'a', 'b')).isDirectory()).toBe(true);
    // a file where a parent should be: the thread stops there, and the run makes the rest itself
    expect(p.has(join(root, 'file', 'c'))).toBe(false);
    expect(p.has(join(root, 'd'))).toBe(false);
    expect(existsSync(join(root, 'd')), 'made after the failure').toBe(false);
    expect(p.has(join(root, 'elsewhere')), 'a folder not on the list').toBe(false);
  });
});

describe('a run of many states with folders made ahead', { timeout: 120_000 }, () => {
  it('publishes the same tree as the run before it, and a failed run leaves no empty output folder', async () => {
    const p = pipeline(70); // above the threshold (64 tasks to run) at which the thread starts
    const first = await runJson(p);
    expect(first.status, first.stderr).toBe('succeeded');
    expect(first.counts.ran).toBe(70);
    const second = await runJson(p);
    expect(second.status, second.stderr).toBe('succeeded');
    expect(second.counts.cached).toBe(70);
    const a = tree(first.run_dir);
    const b = tree(second.run_dir);
    const published = (t: typeof a) => ({ folders: t.folders.filter((f) => f.startsWith('data')), files: Object.fromEntries(Object.entries(t.files).filter(([f]) => f.startsWith('data/'))) });
    expect(published(b)).toEqual(published(a));
    expect(Object.keys(published(b).files)).toHaveLength(70);
    expect(existsSync(join(second.run_dir, '.tmp'))).toBe(false);

    // s0005 broken: it fails, the chain below it is skipped; their folders were made ahead
    writeFileSync(join(p.root, 'states', 'b', 's0005.sql'), '-- step: make\ncreate table d_s0005 as select * from no_such_table;\n');
    const failed = await runJson(p);
    expect(failed.status).toBe('failed');
    expect(failed.counts.failed).toBe(1);
    expect(failed.counts.skipped).toBeGreaterThan(50);
    expect(failed.counts.cached).toBe(5);
    expect(emptyFolders(join(failed.run_dir, 'data'))).toEqual([]);
    expect(readdirSync(join(failed.run_dir, 'data', 'b')).sort()).toEqual(['s0000', 's0001', 's0002', 's0003', 's0004']);
  });
});
