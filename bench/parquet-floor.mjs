// The Parquet-write floor of a run's published outputs, measured now, beside the state's own
// `write outputs` step from the ledger: DuckDB COPY (SELECT * FROM read_parquet(<the published
// files>) ORDER BY <sort key>) TO ... (zstd, row groups of 122 880), with the project's threads
// and memory limit. Usage:
//   node bench/parquet-floor.mjs <run dir> <dataset>:<col>,<col> [<dataset>:<cols> ...]
// e.g. node bench/parquet-floor.mjs runs/<id> arrival_events_5B:merchant_id,arrival_seq s3_bucket_counts_5B:key_id,bucket_index
//   node bench/parquet-floor.mjs <run dir> --all <project root>
// --all: every Parquet output the run's states ran to publish, each sorted by its manifest's
// order_by, then per state its write outputs step against the floors of its outputs, and the total.
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

const argv = process.argv.slice(2);
const [runDir] = argv;
let specs = argv.slice(1);
const all = specs[0] === '--all';
if (all) {
  // dataset -> order_by from the project's manifests
  const orderBy = new Map();
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (/\.ya?ml$/.test(e.name)) for (const o of parse(readFileSync(join(d, e.name), 'utf8'))?.outputs ?? []) if (o.format === 'parquet') orderBy.set(o.dataset, o.order_by ?? []);
    }
  };
  walk(join(specs[1], 'states'));
  const ran = readFileSync(join(runDir, 'ledger.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.action === 'ran');
  specs = [...new Set(ran.flatMap((e) => (e.outputs ?? []).map((o) => o.dataset)))].filter((d) => orderBy.has(d)).map((d) => `${d}:${orderBy.get(d).join(',')}`);
}
if (!runDir || specs.length === 0) {
  console.error('usage: node bench/parquet-floor.mjs <run dir> <dataset>:<col>,<col> ...');
  process.exit(2);
}
const ledger = readFileSync(join(runDir, 'ledger.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const scratch = mkdtempSync(join(tmpdir(), 'floor-'));
const db = await DuckDBInstance.create(':memory:', { threads: process.env.THREADS ?? '2', memory_limit: process.env.MEMORY_LIMIT ?? '4GB', temp_directory: join(scratch, 'spill') });
const con = await db.connect();
const q = (s) => "'" + s.replace(/'/g, "''") + "'";
try {
  const floors = new Map();
  for (const spec of specs) {
    const [dataset, rawCols] = spec.split(':');
    const cols = rawCols || 'ALL'; // an output without order_by: the floor of its plain write
    // the entry that published the dataset (ran, or staged or cached from one that did)
    const entry = [...ledger].reverse().find((e) => (e.outputs ?? []).some((o) => o.dataset === dataset));
    if (!entry) throw new Error(`${dataset}: not in ${runDir}/ledger.jsonl`);
    const files = entry.outputs.filter((o) => o.dataset === dataset).map((o) => join(runDir, o.path)).sort();
    const write = (entry.steps ?? []).find((s) => s.name === 'write outputs')?.seconds;
    const t0 = performance.now();
    await con.run(`COPY (SELECT * FROM read_parquet([${files.map(q).join(', ')}], hive_partitioning = false) ORDER BY ${cols}) TO ${q(join(scratch, `${dataset}.parquet`))} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`);
    const floor = (performance.now() - t0) / 1000;
    floors.set(entry.state, { write, floor: (floors.get(entry.state)?.floor ?? 0) + floor });
    const rows = entry.rows?.[dataset];
    console.log(`${dataset}: ${rows ?? '?'} rows in ${files.length} file(s); floor ${floor.toFixed(1)} s; ${entry.state} ${entry.action}, write outputs ${write === undefined ? '-' : write.toFixed(1) + ' s'}${write === undefined ? '' : `, ratio ${(write / floor).toFixed(2)}`}`);
  }
  if (all) {
    let w = 0;
    let f = 0;
    for (const [state, x] of floors) {
      console.log(`${state}: write outputs ${x.write?.toFixed(1) ?? '-'} s, floor ${x.floor.toFixed(1)} s, ratio ${x.write === undefined ? '-' : (x.write / x.floor).toFixed(2)}`);
      w += x.write ?? 0;
      f += x.floor;
    }
    console.log(`total: write outputs ${w.toFixed(1)} s, floor ${f.toFixed(1)} s, ratio ${(w / f).toFixed(2)}`);
  }
} finally {
  con.closeSync();
  db.closeSync();
  rmSync(scratch, { recursive: true, force: true });
}
