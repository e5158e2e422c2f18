// `dag run` end to end on the diamond fixture (ORCHESTRATOR.md §5, §6, §9): receipt, ledger,
// published files, verify, determinism across runs, seeds, threads, and the --json twins.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { dag, diamondCopy, freshRuns, digestsByDataset, filesUnder, HEX64, ledgerOf, modeOf, onlyRun, receiptOf, RUN_ID, runIdOf, runIds, SEED_SCOPED, sha256, STATES, WORLD_SCOPED, type Project } from './harness.js';

const T = 60_000;

describe('dag run on the diamond', () => {
  const p: Project = diamondCopy();
  let runId = '';
  let runDir = '';
  let stdout = '';

  beforeAll(async () => {
    const r = await dag(p, ['run']);
    expect(r.stderr).toBe('');
    expect(r.code, r.stdout).toBe(0);
    ({ id: runId, dir: runDir } = onlyRun(p));
    stdout = r.stdout;
  }, T);

  it('writes a succeeded receipt with the run lineage and versions', () => {
    expect(runIdOf(stdout)).toBe(runId);
    const rc = receiptOf(runDir);
    expect(rc.run_id).toBe(runId);
    expect(rc.run_id).toMatch(RUN_ID);
    expect(rc.status).toBe('succeeded');
    expect(rc.seed).toBe(42);
    expect(rc.parameter_hash).toMatch(HEX64);
    expect(rc.manifest_fingerprint).toMatch(HEX64);
    expect(rc.parameter_hash).not.toBe(rc.manifest_fingerprint);
    expect(rc.duckdb_version).toMatch(/^\d+\.\d+/);
    expect(Date.parse(rc.created_utc)).not.toBeNaN();
    expect(Date.parse(rc.finished_utc!)).toBeGreaterThanOrEqual(Date.parse(rc.created_utc));
  });

  it('has one `ran` ledger line per state, each output with a sha256 that matches its file', () => {
    const ledger = ledgerOf(runDir);
    expect(ledger.map((e) => e.state).sort()).toEqual(STATES);
    for (const e of ledger) {
      expect(e.action, e.state).toBe('ran');
      expect(e.outputs?.length, e.state).toBeGreaterThan(0);
      for (const o of e.outputs!) {
        expect(o.sha256, o.path).toMatch(HEX64);
        expect(sha256(join(runDir, o.path)), o.path).toBe(o.sha256);
      }
    }
    expect(ledger.find((e) => e.state === 'fx.S1')!.rows).toEqual({ customers_fx: 200 });
  });

  it('publishes every output at its manifest path, placeholders filled, read-only (0444)', () => {
    const rc = receiptOf(runDir);
    const ph = rc.parameter_hash;
    const mf = rc.manifest_fingerprint;
    const expected = [
      `data/fx/regions_fx/parameter_hash=${ph}/regions_fx.parquet`,
      `data/fx/customers_fx/seed=42/parameter_hash=${ph}/customers_fx.parquet`,
      `data/fx/merchants_fx/seed=42/parameter_hash=${ph}/merchants_fx.parquet`,
      `data/fx/pairs_fx/seed=42/parameter_hash=${ph}/pairs_fx.parquet`,
      `data/fx/validation/seed=42/manifest_fingerprint=${mf}/validation_report_fx.json`,
      `data/fx/validation/seed=42/manifest_fingerprint=${mf}/validation_bundle_index_fx.json`,
      `data/fx/validation/seed=42/manifest_fingerprint=${mf}/_passed.flag`,
      `reports/fx/summary/seed=42/summary_fx.json`,
    ];
    const published = ledgerOf(runDir).flatMap((e) => e.outputs!.map((o) => o.path));
    expect(published.sort()).toEqual([...expected].sort());
    // nothing else under data/, and under reports/ only the orchestrator's perf report
    expect([...filesUnder(runDir, 'data'), ...filesUnder(runDir, 'reports')].sort()).toEqual([...expected, 'reports/perf.json'].sort());
    for (const f of expected) expect(modeOf(join(runDir, f)).toString(8), f).toBe('444');
    expect(filesUnder(runDir, '.tmp')).toEqual([]);
  });

  it('`dag verify RUN` exits 0', async () => {
    const r = await dag(p, ['verify', runId]);
    expect(r.stderr).toBe('');
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain(`ok: 8 files in run ${runId} match the ledger`);
  }, T);

  it('`dag runs --json` lists the run as succeeded', async () => {
    const r = await dag(p, ['runs', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as { id: string; status: string; seed: number; ran: number }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: runId, status: 'succeeded', seed: 42, ran: 5 });
  }, T);

  it('`dag query RUN` sees the datasets as views: 200 customers', async () => {
    const plain = await dag(p, ['query', runId, 'select count(*) n from customers_fx']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout.trim().split('\n').map((l) => l.trim())).toEqual(['n', '200']);
    const json = await dag(p, ['query', runId, 'select count(*) n from customers_fx', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(Number((JSON.parse(json.stdout) as { n: unknown }[])[0]!.n)).toBe(200);
    // a dataset's columns are its contract's, in Parquet and in JSON: the run's folders
    // (seed=42/manifest_fingerprint=...) are not read as hive partition columns
    for (const ds of ['customers_fx', 'validation_report_fx']) {
      const cols = await dag(p, ['query', runId, `select * from ${ds} limit 1`, '--json']);
      expect(cols.code, cols.stderr).toBe(0);
      const keys = Object.keys((JSON.parse(cols.stdout) as Record<string, unknown>[])[0]!);
      expect(keys, ds).not.toContain('seed');
      expect(keys, ds).not.toContain('manifest_fingerprint');
    }
  }, T);

  it('`dag perf RUN --json` has a row per state and per step', async () => {
    const r = await dag(p, ['perf', runId, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { run: string; rows: { state: string; step: string | null; seconds: number }[] };
    expect(doc.run).toBe(runId);
    expect(doc.rows.filter((x) => x.step === null).map((x) => x.state).sort()).toEqual(STATES);
    expect(doc.rows.filter((x) => x.state === 'fx.S3' && x.step !== null).map((x) => x.step)).toEqual(['pair', 'validate', 'write outputs']);
    for (const x of doc.rows) expect(x.seconds).toBeGreaterThanOrEqual(0);
    const perf = JSON.parse(readFileSync(join(runDir, 'reports', 'perf.json'), 'utf8')) as { run_id: string; states: unknown[] };
    expect(perf.run_id).toBe(runId);
    expect(perf.states).toHaveLength(5);
  }, T);

  it('`dag run --resume` refuses a succeeded run (exit 3) and an unknown one (exit 2)', async () => {
    const done = await dag(p, ['run', '--resume', runId]);
    expect(done.code, done.stderr).toBe(3);
    expect(done.stderr).toContain(`run ${runId} already succeeded`);
    const unknown = await dag(p, ['run', '--resume', 'f'.repeat(32)]);
    expect(unknown.code, unknown.stderr).toBe(2);
    expect(unknown.stderr).toContain(`no run '${'f'.repeat(32)}'`);
    expect(runIds(p)).toEqual([runId]);
  }, T);

  it('`dag run fx.S2` runs only that state and what it needs', async () => {
    const q = freshRuns(p);
    const r = await dag(q, ['run', 'fx.S2']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const { dir } = onlyRun(q);
    expect(ledgerOf(dir).map((e) => `${e.state} ${e.action}`)).toEqual(['fx.S0 ran', 'fx.S2 ran']);
    expect(receiptOf(dir)).toMatchObject({ status: 'succeeded', targets: ['fx.S2'] });
    expect(filesUnder(dir, 'data').map((f) => f.split('/')[2])).toEqual(['merchants_fx', 'regions_fx']);
    expect(digestsByDataset(ledgerOf(dir)).merchants_fx).toBe(digestsByDataset(ledgerOf(runDir)).merchants_fx);
  }, T);

  it('a second run with the same seed gives identical output digests; --seed 7 changes every seed-scoped one', async () => {
    const first = digestsByDataset(ledgerOf(runDir));
    expect(Object.keys(first).sort()).toEqual(['(gate flag)', '(gate index)', ...SEED_SCOPED, ...WORLD_SCOPED].sort());

    // in an empty runs folder, so nothing can come from the cache: the states really run again
    const elsewhere = freshRuns(p);
    const again = await dag(elsewhere, ['run', '--json']);
    expect(again.code, again.stderr).toBe(0);
    const summary = JSON.parse(again.stdout) as { run_id: string; status: string; exit_code: number; counts: Record<string, number> };
    expect(summary).toMatchObject({ status: 'succeeded', exit_code: 0 });
    expect(summary.run_id).toMatch(RUN_ID);
    expect(summary.run_id).not.toBe(runId);
    expect(summary.counts.ran).toBe(5);
    const second = digestsByDataset(ledgerOf(join(elsewhere.runsDir, summary.run_id)));
    expect(second).toEqual(first);

    const seven = await dag(p, ['run', '--seed', '7']);
    expect(seven.code, seven.stderr).toBe(0);
    const sevenId = runIdOf(seven.stdout);
    const sevenDir = join(p.runsDir, sevenId);
    expect(receiptOf(sevenDir).seed).toBe(7);
    const third = digestsByDataset(ledgerOf(sevenDir));
    for (const ds of SEED_SCOPED) expect(third[ds], ds).not.toBe(first[ds]);
    for (const ds of WORLD_SCOPED) expect(third[ds], ds).toBe(first[ds]);
    expect(filesUnder(sevenDir, 'data').filter((f) => f.includes('/seed=')).every((f) => f.includes('/seed=7/'))).toBe(true);
    expect(runIds(p)).toHaveLength(2);
  }, 3 * T);
});

describe('determinism with duckdb.threads: 4 on the big profile', () => {
  it('two runs give identical bytes for every published file', async () => {
    const p = diamondCopy(({ read, write }) => {
      const yaml = read('dag.yaml');
      expect(yaml).toMatch(/threads: 2/);
      write('dag.yaml', yaml.replace(/threads: 2/, 'threads: 4'));
    });
    // two runs folders, so the second run cannot be served from the first one's cache
    const q = freshRuns(p);
    const [a, b] = await Promise.all([dag(p, ['run', '--profile', 'big', '--json']), dag(q, ['run', '--profile', 'big', '--json'])]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const sa = JSON.parse(a.stdout) as { run_id: string; counts: Record<string, number> };
    const sb = JSON.parse(b.stdout) as { run_id: string; counts: Record<string, number> };
    expect([sa.counts.ran, sb.counts.ran]).toEqual([5, 5]);
    const dirA = join(p.runsDir, sa.run_id);
    const dirB = join(q.runsDir, sb.run_id);
    expect(receiptOf(dirA).profile).toBe('big');
    // the big profile really is bigger: 4 regions x 500 customers
    expect(ledgerOf(dirA).find((e) => e.state === 'fx.S1')!.rows).toEqual({ customers_fx: 2000 });
    expect(ledgerOf(dirA).find((e) => e.state === 'fx.S3')!.rows!.pairs_fx).toBeGreaterThan(10_000);
    const files = filesUnder(dirA, 'data');
    expect(files.length).toBe(7);
    expect(filesUnder(dirB, 'data')).toEqual(files);
    for (const f of [...files, 'reports/fx/summary/seed=42/summary_fx.json']) {
      expect(readFileSync(join(dirB, f)).equals(readFileSync(join(dirA, f))), f).toBe(true);
    }
  }, 2 * T);
});
