#!/usr/bin/env node
// Publishing against the Parquet floor: a one-state pipeline whose kernel makes N arrival-shaped
// rows (~15 columns: UBIGINT ids, TIMESTAMPs, VARCHAR from a small set, BOOLEAN, INTEGER), run
// through `dag run` under /usr/bin/time -v; then, in the same benchmark run, DuckDB's own COPY of
// the published files with the same settings (sorted by order_by, and plain), and the ratio of
// the state's `write outputs` step to that floor.
// Usage: node bench/publish-floor.mjs [--rows 30000000] [--dir /tmp/dag-bench-floor] [--dag dag/bin/dag.mjs]
//        [--rows-per-file N] [--threads 2] [--memory-limit 4GB]
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { arg, repo } from './cli.mjs';

const rows = Number(arg('--rows', '30000000'));
const dir = arg('--dir', '/tmp/dag-bench-floor');
const dagBin = arg('--dag', join(repo, 'dag', 'bin', 'dag.mjs'));
const rowsPerFile = arg('--rows-per-file', undefined);
const threads = Number(arg('--threads', '2'));
const memoryLimit = arg('--memory-limit', '4GB');
const ROW_GROUP_SIZE = 122880; // the orchestrator's fixed row-group size

const ORDER_BY = ['merchant_id', 'arrival_seq'];
const zones = ['America/New_York', 'America/Chicago', 'America/Denver', 'America/Phoenix', 'America/Los_Angeles', 'Europe/London', 'Europe/Paris', 'Europe/Berlin', 'Asia/Shanghai', 'Asia/Tokyo', 'Australia/Sydney', 'America/Sao_Paulo'];

// --- the project ---------------------------------------------------------------------------
rmSync(dir, { recursive: true, force: true });
mkdirSync(join(dir, 'states', 'p'), { recursive: true });
mkdirSync(join(dir, 'contracts'), { recursive: true });
const publish = rowsPerFile ? `publish:\n  rows_per_file: ${rowsPerFile}\n` : '';
writeFileSync(join(dir, 'dag.yaml'), `name: bench-publish-floor\nduckdb:\n  threads: ${threads}\n  memory_limit: ${memoryLimit}\n${publish}`);
writeFileSync(
  join(dir, 'contracts', 'arrivals.yaml'),
  `arrivals:
  type: table
  columns:
    merchant_id: { type: uint64 }
    arrival_seq: { type: uint64 }
    site_id: { type: uint64, nullable: true }
    edge_id: { type: uint64, nullable: true }
    zone_index: { type: int32, minimum: 0, maximum: ${zones.length - 1} }
    bucket_index: { type: int32, minimum: 0 }
    ts_utc: { type: timestamp }
    ts_local: { type: timestamp }
    tzid: { type: string, enum: [${zones.join(', ')}] }
    channel: { type: string, enum: [CP, CNP] }
    routing: { type: string, enum: [site, edge] }
    is_virtual: { type: bool }
    hour_local: { type: int32, minimum: 0, maximum: 23 }
    seq_in_bucket: { type: int32, minimum: 0 }
    draw_key: { type: uint64 }
  primary_key: [merchant_id, arrival_seq]
`,
);
writeFileSync(
  join(dir, 'states', 'p', 'S1.yaml'),
  `id: p.S1
kernel: S1.sql
outputs:
  - dataset: arrivals
    format: parquet
    path: data/arrivals/seed={seed}
    schema: contracts/arrivals.yaml#/arrivals
    order_by: [${ORDER_BY.join(', ')}]
`,
);
// Rows in a scrambled order (a hash of the counter), so the sort has real work to do.
writeFileSync(
  join(dir, 'states', 'p', 'S1.sql'),
  `-- step: generate
CREATE TABLE arrivals AS
WITH r AS (SELECT range AS i, hash(range, getvariable('seed')) AS h FROM range(${rows}))
SELECT
  (h % 300000)::UBIGINT AS merchant_id,
  i::UBIGINT AS arrival_seq,
  CASE WHEN h % 10 < 8 THEN (h >> 20) % 1000000 END::UBIGINT AS site_id,
  CASE WHEN h % 10 >= 8 THEN (h >> 24) % 200000 END::UBIGINT AS edge_id,
  ((h >> 8) % ${zones.length})::INTEGER AS zone_index,
  ((h >> 12) % 2160)::INTEGER AS bucket_index,
  TIMESTAMP '2026-01-01' + to_microseconds(((h >> 12) % 7776000000000)::BIGINT) AS ts_utc,
  TIMESTAMP '2026-01-01' + to_microseconds(((h >> 12) % 7776000000000)::BIGINT - 18000000000) AS ts_local,
  ([${zones.map((z) => `'${z}'`).join(', ')}])[(((h >> 8) % ${zones.length}) + 1)::BIGINT] AS tzid,
  CASE WHEN (h >> 30) % 3 = 0 THEN 'CNP' ELSE 'CP' END AS channel,
  CASE WHEN h % 10 < 8 THEN 'site' ELSE 'edge' END AS routing,
  h % 10 >= 8 AS is_virtual,
  ((h >> 16) % 24)::INTEGER AS hour_local,
  ((h >> 40) % 50)::INTEGER AS seq_in_bucket,
  hash(i) AS draw_key
FROM r;
`,
);

// --- dag run -------------------------------------------------------------------------------
const runsDir = join(dir, 'runs');
const t0 = process.hrtime.bigint();
const r = spawnSync('/usr/bin/time', ['-v', process.execPath, dagBin, '--root', dir, 'run', '--json', '--no-cache'], { env: { ...process.env, DAG_RUNS_DIR: runsDir }, encoding: 'utf8', maxBuffer: 1 << 28 });
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
if (r.status !== 0) throw new Error(`dag run exited ${r.status}: ${r.stderr}\n${r.stdout.slice(-2000)}`);
const rssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1] ?? NaN);
const summary = JSON.parse(r.stdout);
const ledger = readFileSync(join(summary.run_dir, 'ledger.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const entry = ledger.find((e) => e.state === 'p.S1' && e.action === 'ran');
const step = (name) => entry.steps.find((s) => s.name === name)?.seconds ?? NaN;
const files = entry.outputs.filter((o) => o.dataset === 'arrivals').map((o) => join(summary.run_dir, o.path)).sort();
const publishedBytes = files.reduce((a, f) => a + statSync(f).size, 0);

// --- the floor: DuckDB writing the same rows itself ------------------------------------------
const floorDir = join(dir, 'floor');
mkdirSync(floorDir, { recursive: true });
const db = await DuckDBInstance.create(':memory:', { threads: String(threads), memory_limit: memoryLimit, temp_directory: join(floorDir, 'spill') });
const con = await db.connect();
const list = `[${files.map((f) => `'${f}'`).join(', ')}]`;
const options = `FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${ROW_GROUP_SIZE}`;
const timeIt = async (sql) => {
  const t = process.hrtime.bigint();
  await con.run(sql);
  return Number(process.hrtime.bigint() - t) / 1e9;
};
const floorSorted = await timeIt(`COPY (SELECT * FROM read_parquet(${list}) ORDER BY ${ORDER_BY.join(', ')}) TO '${floorDir}/sorted.parquet' (${options})`);
const floorPlain = await timeIt(`COPY (SELECT * FROM read_parquet(${list})) TO '${floorDir}/plain.parquet' (${options})`);
con.closeSync();
db.closeSync();

const write = step('write outputs');
const kernel = step('generate');
const cpu = cpus()[0]?.model ?? 'unknown CPU';
const duckdbVersion = JSON.parse(readFileSync(join(repo, 'node_modules', '@duckdb', 'node-api', 'package.json'), 'utf8')).version;
const result = {
  date: new Date().toISOString().slice(0, 10),
  machine: `${cpus().length} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, DuckDB ${duckdbVersion}`,
  command: `node bench/publish-floor.mjs --rows ${rows}${rowsPerFile ? ` --rows-per-file ${rowsPerFile}` : ''}`,
  rows,
  files: files.length,
  published_mib: +(publishedBytes / 2 ** 20).toFixed(1),
  state_seconds: +entry.seconds.toFixed(2),
  kernel_seconds: +kernel.toFixed(2),
  write_outputs_seconds: +write.toFixed(2),
  floor_sorted_seconds: +floorSorted.toFixed(2),
  floor_plain_seconds: +floorPlain.toFixed(2),
  ratio_to_sorted_floor: +(write / floorSorted).toFixed(2),
  ratio_to_plain_floor: +(write / floorPlain).toFixed(2),
  dag_run_wall_seconds: +wall.toFixed(2),
  peak_rss_gib: +(rssKb / 2 ** 20).toFixed(2),
};
console.log(JSON.stringify(result, null, 2));
rmSync(floorDir, { recursive: true, force: true });
