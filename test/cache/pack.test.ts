// The cache's entries of the keys tasks last had, packed in one file (runs/.cache/keys.pack.json),
// so a no-op run reads one file instead of one per state (issue 15). The key files stay the truth:
// a packed entry whose key file is gone is not served, and a damaged pack only costs reading the
// key files.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CacheKey, KeyComponents } from '../../dag/fingerprint/cachekey.js';
import type { CacheEntry } from '../../dag/store/cache.js';
import { FileStore } from '../../dag/store/objects.js';
import { StatCache } from '../../dag/store/statcache.js';
import { actions, allOf, diamond, goodRun, STATES, tempDir, TIMEOUT } from './helpers.js';

const packOf = (runsDir: string) => join(runsDir, '.cache', 'keys.pack.json');
const readPack = (runsDir: string) => (JSON.parse(readFileSync(packOf(runsDir), 'utf8')) as { entries: Record<string, Record<string, unknown>> }).entries;

describe('the packed cache entries', { timeout: TIMEOUT }, () => {
  it('hold every state last key, without components, and a no-op run leaves the file as it is', async () => {
    const p = diamond();
    const first = await goodRun(p);
    const entries = readPack(p.runsDir);
    const keys = STATES.map((s) => first.by[s]!.cache_key!);
    expect(Object.keys(entries).sort()).toEqual([...keys].sort());
    for (const s of STATES) {
      const e = entries[first.by[s]!.cache_key!]!;
      expect(e.state).toBe(s);
      expect(e, 'components are read from the key file when asked').not.toHaveProperty('components');
      expect((e.files as { sha256: string }[]).map((f) => f.sha256).sort()).toEqual(first.by[s]!.outputs!.map((o) => o.sha256).sort());
    }
    const before = statSync(packOf(p.runsDir));
    const second = await goodRun(p);
    expect(actions(second)).toEqual(allOf('cached'));
    const after = statSync(packOf(p.runsDir));
    expect([after.ino, after.mtimeMs], 'rewritten by a run that changed no key').toEqual([before.ino, before.mtimeMs]);
  });

  it('never serves an entry whose key file is gone, and a damaged pack only means reading the key files', async () => {
    const p = diamond();
    const first = await goodRun(p);
    // the key file removed (as prune or a hand does): the pack still lists it, but it is no entry
    rmSync(join(p.runsDir, '.cache', 'keys', `${first.by['fx.S2']!.cache_key}.json`));
    const second = await goodRun(p);
    expect(second.by['fx.S2']!.action, 'served from the pack although its key file is gone').toBe('ran');
    expect(second.by['fx.S1']!.action).toBe('cached');

    writeFileSync(packOf(p.runsDir), '{"entries": {'); // torn
    const third = await goodRun(p);
    expect(actions(third)).toEqual(allOf('cached'));
    expect(Object.keys(readPack(p.runsDir)), 'written whole again').toHaveLength(STATES.length);
  });
});

describe('FileStore pack', () => {
  it('gives a packed entry its components from the key file, and drops what it drops', () => {
    const dir = tempDir('pack');
    mkdirSync(join(dir, 'keys'), { recursive: true });
    const components = { manifest: 'm', kernel: 'k', prelude: 'p', contracts: {}, files: { 'config/a.yaml': 'd' }, datasets: {}, gates: {}, seed: 7, scenario: null, versions: { dag: '0', duckdb: '1' } } as unknown as KeyComponents;
    const entry = (key: string): CacheEntry => ({ key: key as CacheKey, state: 'x.S', scenario: null, created_utc: '2026-12-03T00:00:00Z', seconds: 1, components, files: [{ dataset: 'd', template: 'data/d', name: 'd.parquet', sha256: 'a'.repeat(64), bytes: 3, rows: 1 }], run_id: '0'.repeat(32) });
    const a = 'a'.repeat(64);
    const b = 'b'.repeat(64);
    const store = new FileStore(dir, new StatCache(join(dir, 'stat.json')));
    store.putEntry(entry(a));
    store.putEntry(entry(b));
    store.index(new Set([a, b]), new Map([[a as CacheKey, entry(a)], [b as CacheKey, entry(b)]]));

    // a new process: the key files are replaced by ones whose components differ, to tell where
    // each part comes from
    const marked = { ...entry(a), components: { ...components, seed: 8 }, state: 'from.the.key.file' };
    writeFileSync(join(dir, 'keys', `${a}.json`), JSON.stringify(marked));
    const fresh = new FileStore(dir, new StatCache(join(dir, 'stat.json')));
    const got = fresh.getEntry(a as CacheKey)!;
    expect(got.state, 'the packed entry is served').toBe('x.S');
    expect((got.components as unknown as { seed: number }).seed, 'its components read from the key file').toBe(8);

    fresh.dropEntry(b as CacheKey);
    expect(fresh.getEntry(b as CacheKey)).toBeUndefined();
    // only named keys stay packed
    fresh.index(new Set([a]), new Map());
    expect(Object.keys(JSON.parse(readFileSync(join(dir, 'keys.pack.json'), 'utf8')).entries)).toEqual([a]);
  });
});
