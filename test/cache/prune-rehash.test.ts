// A prune removes run folders, i.e. hard links to the cache's objects: each unlink moves the
// object's ctime past its stat record, and the next no-op run rehashed every object it served
// (issue 15: 7.5 MB over 10 000 states in the bench pipeline, the whole cache at full scale).
// Prune now re-records the objects whose record held before it, and only those.
import { chmodSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StatCache } from '../../dag/store/statcache.js';
import { actions, allOf, dag, diamond, goodRun, runIds, tempDir, TIMEOUT } from './helpers.js';

const objectOf = (runsDir: string, sha256: string) => join(runsDir, '.cache', 'objects', sha256.slice(0, 2), sha256);

describe('dag prune and the stat cache', { timeout: TIMEOUT }, () => {
  it('a no-op run after a prune rehashes zero bytes, and an object changed before the prune is still caught', async () => {
    const p = diamond();
    const first = await goodRun(p); // every state ran; its files are the objects' first links
    await goodRun(p);
    const third = await goodRun(p);
    expect(actions(third)).toEqual(allOf('cached'));

    // an object changed in place before the prune (same size, mtime put back): its record no
    // longer holds, so the prune must not vouch for it
    const victim = third.by['fx.S1']!.outputs![0]!;
    const obj = objectOf(p.runsDir, victim.sha256);
    const st = statSync(obj);
    const bytes = readFileSync(obj);
    bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 0xff;
    chmodSync(obj, 0o644);
    writeFileSync(obj, bytes);
    chmodSync(obj, 0o444);
    utimesSync(obj, st.atime, st.mtime);

    const pruned = await dag(p, ['prune', '--yes']);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(runIds(p), 'keep_last 2: the first run went').not.toContain(first.run_id);
    expect(runIds(p)).toHaveLength(2);

    const after = await goodRun(p);
    for (const [state, e] of Object.entries(after.by)) {
      if (state === 'fx.S1') continue;
      expect(e.action, state).toBe('cached');
      expect(e.hashed_bytes, `${state} rehashed its objects after the prune`).toBe(0);
    }
    // the changed object was hashed, found corrupt and not served: fx.S1 reran and made good bytes
    expect(after.by['fx.S1']!.action).toBe('ran');
    expect(after.by['fx.S1']!.outputs![0]!.sha256).toBe(victim.sha256);
  });
});

describe('an unreadable stat cache (it is written without waiting for the disk)', { timeout: TIMEOUT }, () => {
  it('costs hashing again, never a failed or wrong run', async () => {
    const p = diamond();
    await goodRun(p);
    writeFileSync(join(p.runsDir, '.cache', 'stat.json'), ''); // what a crash before the bytes reached the disk can leave
    const r = await goodRun(p);
    expect(actions(r)).toEqual(allOf('cached'));
    expect(r.ledger.reduce((n, e) => n + (e.hashed_bytes ?? 0), 0), 'every object hashed again').toBeGreaterThan(0);
    const again = await goodRun(p);
    expect(again.ledger.reduce((n, e) => n + (e.hashed_bytes ?? 0), 0), 'and recorded again').toBe(0);
  });
});

describe('StatCache.saveInPlace (what prune writes)', () => {
  it('keeps the file at its disk usage: shorter records are padded, records needing another block are not written', () => {
    const dir = tempDir('statcache');
    const file = join(dir, 'stat.json');
    const files = Array.from({ length: 40 }, (_, i) => join(dir, `f${i}`));
    files.forEach((f, i) => writeFileSync(f, `content ${i}`));
    const full = new StatCache(file);
    files.forEach((f, i) => full.remember(f, String(i).repeat(64)));
    full.save();
    const before = statSync(file);

    // fewer records (one file gone): written, padded to the same size and blocks, and still read back
    rmSync(files[0]!);
    const fewer = new StatCache(file);
    fewer.remember(files[0]!, 'x'.repeat(64));
    expect(fewer.saveInPlace()).toBe(true);
    const after = statSync(file);
    expect([after.size, after.blocks]).toEqual([before.size, before.blocks]);
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')) as object)).toHaveLength(39);

    // far more records than the file's blocks hold: nothing written
    const more = new StatCache(file);
    const grown = Array.from({ length: 400 }, (_, i) => join(dir, `g${i}`));
    grown.forEach((f) => writeFileSync(f, 'g'));
    grown.forEach((f) => more.remember(f, 'z'.repeat(64)));
    const text = readFileSync(file, 'utf8');
    expect(more.saveInPlace()).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });
});
