// Outputs above publish.rows_per_file are published as <dataset>-NNNN.parquet (ORCHESTRATOR.md §5a)
// and every consumer sees all their files: kernel views, the cache, --from, gate bundles, the
// ledger, verify, query and diff. The sort key: order_by alone when it holds the primary key.
import { DuckDBInstance } from '@duckdb/node-api';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { dag, filesUnder, ledgerOf, REPO, sha256, tempDir, type Project } from './harness.js';

const T = 60_000;
const SPLIT = join(REPO, 'test', 'fixtures', 'split');
const EVENTS = ['events_sp-0000.parquet', 'events_sp-0001.parquet', 'events_sp-0002.parquet'].map((f) => `data/sp/events/seed=42/${f}`);

function splitCopy(threads = 2): Project {
  const root = tempDir('split');
  cpSync(SPLIT, root, { recursive: true });
  const yaml = readFileSync(join(root, 'dag.yaml'), 'utf8');
  writeFileSync(join(root, 'dag.yaml'), yaml.replace('threads: 2', `threads: ${threads}`));
  return { root, runsDir: tempDir('runs') };
}

async function runJson(p: Project, args: string[] = []): Promise<{ run_id: string; run_dir: string; counts: Record<string, number> }> {
  const r = await dag(p, ['run', '--json', ...args]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const s = JSON.parse(r.stdout) as { run_id: string; counts: Record<string, number> };
  return { ...s, run_dir: join(p.runsDir, s.run_id) };
}

/** Rows of the files in the order given, as DuckDB reads them with insertion order kept. */
async function rowsOf(files: string[], columns: string): Promise<unknown[][]> {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await db.connect();
  try {
    const out: unknown[][] = [];
    for (const f of files) for (const r of (await con.runAndReadAll(`SELECT ${columns} FROM read_parquet('${f}')`)).getRowsJS()) out.push(r);
    return out;
  } finally {
    con.closeSync();
    db.closeSync();
  }
}

describe('a dataset split into several files', () => {
  const p = splitCopy(1);
  const q = splitCopy(4);
  let a: Awaited<ReturnType<typeof runJson>>;
  let b: Awaited<ReturnType<typeof runJson>>;

  beforeAll(async () => {
    [a, b] = await Promise.all([runJson(p), runJson(q)]);
  }, 2 * T);

  it('is written as <dataset>-NNNN.parquet cut at values of the lead sort column, at most rows_per_file rows a file, listed per file in the ledger', async () => {
    expect(filesUnder(a.run_dir, 'data/sp/events')).toEqual(EVENTS);
    const s1 = ledgerOf(a.run_dir).find((e) => e.state === 'sp.S1')!;
    expect(s1.rows).toEqual({ events_sp: 400_000, ties_sp: 200_000 });
    const events = s1.outputs!.filter((o) => o.dataset === 'events_sp');
    expect(events.map((o) => o.path)).toEqual(EVENTS);
    const counts = events.map((o) => o.rows!);
    expect(counts.reduce((x, y) => x + y, 0)).toBe(400_000);
    for (const n of counts) expect(n).toBeLessThanOrEqual(150_000);
    expect(counts[0]).toBeGreaterThan(145_000); // 5 000 accounts in 4 096 bins: a file stops within a bin of its limit
    for (const o of events) expect(sha256(join(a.run_dir, o.path))).toBe(o.sha256);
    // an account's rows never straddle two files (each file sorts only its own accounts)
    const ranges = await Promise.all(events.map(async (o) => (await rowsOf([join(a.run_dir, o.path)], 'min(account_id), max(account_id), count(*)'))[0]!));
    for (let i = 0; i < ranges.length; i++) expect(Number(ranges[i]![2])).toBe(counts[i]);
    for (let i = 1; i < ranges.length; i++) expect(BigInt(ranges[i]![0] as bigint)).toBeGreaterThan(BigInt(ranges[i - 1]![1] as bigint));
    // ties_sp sorts by a string (zone): cut by row ranges of exactly rows_per_file
    expect(s1.outputs!.filter((o) => o.dataset === 'ties_sp').map((o) => o.rows)).toEqual([150_000, 50_000]);
  });

  it('has identical bytes with DuckDB threads 1 and 4 (several row groups per file)', () => {
    const files = filesUnder(a.run_dir, 'data');
    expect(filesUnder(b.run_dir, 'data')).toEqual(files);
    expect(files.length).toBe(3 + 2 + 3 + 3); // events, ties, checked; verdict, bundle index and flag
    for (const f of [...files, 'reports/sp/summary/seed=42/summary_sp.json']) expect(sha256(join(b.run_dir, f)), f).toBe(sha256(join(a.run_dir, f)));
  });

  it('holds the rows sorted by order_by across its files in name order', async () => {
    const rows = await rowsOf(EVENTS.map((f) => join(a.run_dir, f)), 'account_id, seq');
    expect(rows.length).toBe(400_000);
    const key = (r: unknown[]) => [BigInt(r[0] as bigint), BigInt(r[1] as bigint)] as const;
    let sorted = true;
    for (let i = 1; i < rows.length && sorted; i++) {
      const [x0, x1] = key(rows[i - 1]!);
      const [y0, y1] = key(rows[i]!);
      sorted = x0 < y0 || (x0 === y0 && x1 < y1);
    }
    expect(sorted).toBe(true);
  });

  it('keeps the total order when order_by does not hold the primary key (ties broken by every column)', async () => {
    const files = filesUnder(a.run_dir, 'data/sp/ties').map((f) => join(a.run_dir, f));
    const rows = (await rowsOf(files, 'zone, id, amount')) as [string, bigint, number][];
    const expected = [...rows].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0));
    expect(rows).toEqual(expected);
  });

  it('is read whole, in order, by a downstream kernel; its gate bundle indexes each file and verifies', () => {
    const summary = JSON.parse(readFileSync(join(a.run_dir, 'reports/sp/summary/seed=42/summary_sp.json'), 'utf8'));
    expect(summary).toMatchObject({ rows: 400_000, in_order: true });
    const index = JSON.parse(readFileSync(join(a.run_dir, 'data/sp/validation/seed=42/bundle_index_sp.json'), 'utf8')) as { files: { path: string }[] };
    expect(index.files.map((f) => f.path)).toEqual(['checked_sp-0000.parquet', 'checked_sp-0001.parquet', 'checked_sp-0002.parquet', 'verdict_sp.json']);
    expect(ledgerOf(a.run_dir).find((e) => e.state === 'sp.S2')!.gate).toMatchObject({ passed: true });
  });

  it('`dag verify`, `dag query` and `dag diff` see every file', async () => {
    const v = await dag(p, ['verify', a.run_id]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    const qr = await dag(p, ['query', a.run_id, 'select count(*) as n, count(distinct (account_id, seq)) as k from events_sp', '--json']);
    expect(JSON.parse(qr.stdout)).toEqual([{ n: '400000', k: '400000' }]);
    // a run of the same project in another runs folder has the same files: no differences
    const again = await runJson({ root: p.root, runsDir: p.runsDir }, ['--no-cache']);
    const d = await dag(p, ['diff', a.run_id, again.run_id, '--json']);
    expect(d.code, d.stdout).toBe(0);
    expect(JSON.parse(d.stdout).datasets.same).toBe(5);
  }, T);

  it('is restored whole from the cache, and staged whole by --from', async () => {
    const cached = await runJson(q);
    expect(cached.counts).toMatchObject({ cached: 3, ran: 0 });
    expect(filesUnder(cached.run_dir, 'data')).toEqual(filesUnder(b.run_dir, 'data'));
    expect(ledgerOf(cached.run_dir).find((e) => e.state === 'sp.S1')!.outputs!.filter((o) => o.dataset === 'events_sp').length).toBe(3);
    const staged = await runJson(q, ['--from', 'sp.S3', '--base', b.run_id]);
    expect(staged.counts).toMatchObject({ staged: 2, ran: 1 });
    for (const f of filesUnder(b.run_dir, 'data')) expect(sha256(join(staged.run_dir, f)), f).toBe(sha256(join(b.run_dir, f)));
    const summary = JSON.parse(readFileSync(join(staged.run_dir, 'reports/sp/summary/seed=42/summary_sp.json'), 'utf8'));
    expect(summary).toMatchObject({ rows: 400_000, in_order: true });
  }, T);

  it('finds a primary key repeated inside one of several files, and publishes nothing (exit 1)', async () => {
    const r = splitCopy();
    const kernel = join(r.root, 'states/sp/S1_events.sql');
    writeFileSync(kernel, readFileSync(kernel, 'utf8').replace('-- step: ties', 'insert into events_sp select * from events_sp where seq = 123456;\n-- step: ties'));
    const out = await dag(r, ['run', '--json']);
    expect(out.code, out.stdout + out.stderr).toBe(1);
    expect(out.stdout + out.stderr).toMatch(/events_sp breaks its contract: primary key \(account_id, seq\) is duplicated; e\.g\. [^\n]*seq[^\n]*123456/);
    expect(filesUnder(r.runsDir, '').filter((f) => f.includes('data/sp/events'))).toEqual([]);
  }, T);

  it('--from moves a staged gate bundle with its files when the manifest fingerprint changed since the base (its path follows this run)', async () => {
    const r = splitCopy();
    const check = join(r.root, 'states/sp/S2_check.yaml');
    writeFileSync(check, readFileSync(check, 'utf8').replaceAll('path: data/sp/validation/seed={seed}', 'path: data/sp/validation/seed={seed}/manifest_fingerprint={manifest_fingerprint}'));
    const base = await runJson(r);
    // a comment in the downstream kernel: a sealed file, so the manifest fingerprint (and every bundle path) changes
    const summary = join(r.root, 'states/sp/S3_summary.sql');
    writeFileSync(summary, readFileSync(summary, 'utf8') + '-- edited\n');
    const staged = await runJson(r, ['--from', 'sp.S3', '--base', base.run_id]);
    expect(staged.counts).toMatchObject({ staged: 2, ran: 1, failed: 0 });
    const gate = ledgerOf(staged.run_dir).find((e) => e.state === 'sp.S2')!.gate as { path: string };
    expect(gate.path).not.toBe((ledgerOf(base.run_dir).find((e) => e.state === 'sp.S2')!.gate as { path: string }).path);
    expect(filesUnder(staged.run_dir, gate.path).some((f) => f.endsWith('/_passed.flag'))).toBe(true);
  }, T);

  it('rejects a publish.rows_per_file that is not a positive integer (exit 2)', async () => {
    const r = splitCopy();
    writeFileSync(join(r.root, 'dag.yaml'), readFileSync(join(r.root, 'dag.yaml'), 'utf8').replace('rows_per_file: 150000', 'rows_per_file: 0'));
    const out = await dag(r, ['validate']);
    expect(out.code).toBe(2);
    expect(out.stdout + out.stderr).toMatch(/rows_per_file/);
  });
});
