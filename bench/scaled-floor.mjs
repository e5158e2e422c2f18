// The Parquet floor of datasets at a scale no run has reached yet: a dev run's published rows,
// repeated until they reach a target row count (every uint64 column but the sort key's later
// columns offset by the copy number x 2^44, so keys stay unique and ids spread as at full scale),
// written unsorted to a scratch file, then timed as bench/parquet-floor.mjs times a published
// dataset: DuckDB COPY (SELECT * FROM read_parquet(<file>) ORDER BY <sort key>) TO ... (zstd, row
// groups of 122 880), with threads 2 and memory_limit 4GB unless THREADS / MEMORY_LIMIT say otherwise.
// One dataset at a time; its scratch files are removed before the next. Usage:
//   node bench/scaled-floor.mjs <dev run dir> <dataset>:<rows>:<col>,<col> [...]
// e.g. node bench/scaled-floor.mjs runs/<id> s2_event_stream_baseline_6B:335000000:flow_id,event_seq
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [runDir, ...specs] = process.argv.slice(2);
if (!runDir || specs.length === 0) {
  console.error('usage: node bench/scaled-floor.mjs <dev run dir> <dataset>:<rows>:<col>,<col> ...');
  process.exit(2);
}
const ledger = readFileSync(join(runDir, 'ledger.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const scratch = mkdtempSync(join(process.env.SCRATCH ?? tmpdir(), 'scaled-floor-'));
const db = await DuckDBInstance.create(':memory:', { threads: process.env.THREADS ?? '2', memory_limit: process.env.MEMORY_LIMIT ?? '4GB', temp_directory: join(scratch, 'spill') });
const con = await db.connect();
const q = (s) => "'" + s.replace(/'/g, "''") + "'";
const id = (s) => '"' + s.replace(/"/g, '""') + '"';
let total = 0;
try {
  for (const spec of specs) {
    const [dataset, rowsText, cols] = spec.split(':');
    const target = Number(rowsText);
    const key = cols.split(',');
    const entry = [...ledger].reverse().find((e) => (e.outputs ?? []).some((o) => o.dataset === dataset));
    if (!entry) throw new Error(`${dataset}: not in ${runDir}/ledger.jsonl`);
    const files = entry.outputs.filter((o) => o.dataset === dataset).map((o) => join(runDir, o.path)).sort();
    const src = `read_parquet([${files.map(q).join(', ')}], hive_partitioning = false)`;
    const devRows = Number((await con.runAndReadAll(`SELECT count(*) AS n FROM ${src}`)).getRowObjectsJS()[0].n);
    const copies = Math.ceil(target / devRows);
    const columns = (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`)).getRowObjectsJS();
    const select = columns.map((c) => (c.column_type === 'UBIGINT' && !key.slice(1).includes(c.column_name) ? `${id(c.column_name)} + (r::UBIGINT << 44) AS ${id(c.column_name)}` : id(c.column_name))).join(', ');
    if (files.length !== 1) throw new Error(`${dataset}: ${files.length} files; a dev run's dataset in one file is expected`);
    const unsorted = join(scratch, `${dataset}-unsorted.parquet`);
    const g0 = performance.now();
    // exactly target rows: every copy of the dev rows whose place r x devRows + row number is below it
    // (no LIMIT, and insertion order not kept: the generation streams instead of buffering)
    await con.run('SET preserve_insertion_order = false');
    await con.run(`COPY (SELECT ${select} FROM read_parquet(${q(files[0])}, hive_partitioning = false, file_row_number = true), range(${copies}) t(r)
      WHERE r * ${devRows} + file_row_number < ${target}) TO ${q(unsorted)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`);
    await con.run('SET preserve_insertion_order = true');
    const generated = (performance.now() - g0) / 1000;
    const sorted = join(scratch, `${dataset}.parquet`);
    const t0 = performance.now();
    await con.run(`COPY (SELECT * FROM read_parquet(${q(unsorted)}) ORDER BY ${key.map(id).join(', ')}) TO ${q(sorted)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`);
    const floor = (performance.now() - t0) / 1000;
    total += floor;
    console.log(`${dataset}: ${target} rows (${copies} copies of ${devRows}, ${columns.length} columns), ${(statSync(sorted).size / 2 ** 30).toFixed(2)} GiB; floor ${floor.toFixed(1)} s (generated in ${generated.toFixed(1)} s)`);
    rmSync(unsorted, { force: true });
    rmSync(sorted, { force: true });
  }
  console.log(`total floor ${total.toFixed(1)} s`);
} finally {
  con.closeSync();
  db.closeSync();
  rmSync(scratch, { recursive: true, force: true });
}
