/** A run's published datasets as DuckDB views (`dag query`, the group queries of `dag report --group`). */
import type { DuckDBConnection } from '@duckdb/node-api';
import { join } from 'node:path';
import { ident, sqlString } from '../contracts/tablecheck.js';
import type { CompiledProject } from '../graph/compile.js';
import { DagError } from '../project/diagnostics.js';
import { latestOutcomes, readLedger } from './runs.js';
import { isPublished } from './verify.js';

/** Every dataset the run published, with its files in name order (a split dataset's row order). */
export function publishedDatasets(runDir: string): Map<string, string[]> {
  const byDataset = new Map<string, string[]>();
  for (const e of latestOutcomes(readLedger(runDir)).values()) {
    if (!isPublished(e)) continue;
    for (const o of e.outputs ?? []) if (!o.dataset.startsWith('(')) byDataset.set(o.dataset, [...(byDataset.get(o.dataset) ?? []), join(runDir, o.path)]);
  }
  for (const files of byDataset.values()) files.sort();
  return byDataset;
}

/** One view per dataset, named by its id, in `schema` when given. */
export async function createDatasetViews(con: DuckDBConnection, datasets: Map<string, string[]>, schema?: string): Promise<void> {
  if (schema) await con.run(`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`);
  for (const [ds, files] of datasets) {
    const list = `[${files.map(sqlString).join(', ')}]`;
    // hive_partitioning off for every reader: a run's folders (seed=42/...) are not columns of its data
    const reader = files[0]!.endsWith('.parquet') ? `read_parquet(${list}, hive_partitioning = false)` : files[0]!.endsWith('.jsonl') ? `read_json(${list}, format = 'newline_delimited', hive_partitioning = false)` : `read_json(${list}, hive_partitioning = false)`;
    try {
      await con.run(`CREATE VIEW ${schema ? `${ident(schema)}.` : ''}${ident(ds)} AS SELECT * FROM ${reader}`);
    } catch (e) {
      const message = (e as Error).message.split('\n')[0]!;
      const file = files.find((f) => message.includes(f)) ?? files[0]!;
      throw new DagError([{ code: 'damaged-file', file, message: `dataset ${ds}: ${message}`, fix: 'dag verify RUN says which published files no longer match the ledger' }]);
    }
  }
}

/**
 * From here on this DuckDB reads only the given files and writes none (`dag query`, the group
 * queries): no COPY ... TO, no read_csv of other paths, no extension; DuckDB refuses to turn
 * external access back on once it is off.
 */
export async function readOnlyFiles(con: DuckDBConnection, files: string[]): Promise<void> {
  if (files.length) await con.run(`SET allowed_paths = [${files.map(sqlString).join(', ')}]`);
  await con.run('SET autoinstall_known_extensions = false');
  await con.run('SET autoload_known_extensions = false');
  await con.run('SET enable_external_access = false');
}

/**
 * The views the project's manifests declare (`views:`), over a run that published every output of
 * the declaring state; a view whose SQL fails names its manifest and the error.
 */
export async function createDeclaredViews(con: DuckDBConnection, cp: CompiledProject, datasets: Map<string, string[]>): Promise<string[]> {
  const made: string[] = [];
  for (const node of cp.states.values()) {
    if (node.views.length === 0 || !node.outputs.every((o) => datasets.has(o.dataset))) continue;
    for (const [i, v] of node.views.entries()) {
      try {
        await con.run(`CREATE VIEW ${ident(v.name)} AS ${v.sql}`);
        made.push(v.name);
      } catch (e) {
        throw new DagError([{ code: 'view', file: node.manifest.file, line: node.manifest.source.lineOf(['views', i, 'sql']), pointer: `/views/${i}/sql`, message: `view '${v.name}' of ${node.id} does not build over this run: ${(e as Error).message.split('\n')[0]}` }]);
      }
    }
  }
  return made;
}
