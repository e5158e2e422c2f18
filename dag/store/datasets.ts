/** A run's published datasets as DuckDB views (`dag query`, the group queries of `dag report --group`). */
import type { DuckDBConnection } from '@duckdb/node-api';
import { join } from 'node:path';
import { ident, sqlString } from '../contracts/tablecheck.js';
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
    const reader = files[0]!.endsWith('.parquet') ? `read_parquet(${list}, hive_partitioning = false)` : files[0]!.endsWith('.jsonl') ? `read_json(${list}, format = 'newline_delimited')` : `read_json(${list})`;
    await con.run(`CREATE VIEW ${schema ? `${ident(schema)}.` : ''}${ident(ds)} AS SELECT * FROM ${reader}`);
  }
}
