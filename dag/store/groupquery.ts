/**
 * The group queries of `dag report --group`: a report's `cross_seed.queries` names a SQL file of the
 * project and the seeds that play its roles (`{train: 42, score: 7}`); each role is a DuckDB schema
 * holding a view per dataset of that seed's run, and the query's one row gives the declared gates'
 * values (columns named by gate id) and figures (its other numeric columns). dag knows nothing of
 * what the query measures.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { DagError } from '../project/diagnostics.js';
import { certifyGroup, groupQueriesOf, runOfSeed, type Certification, type GroupQuery, type GroupQueryResult, type GroupQueryResults, type GroupRun } from './certify.js';
import { createDatasetViews, publishedDatasets } from './datasets.js';

/** The query file inside the project, or exit 2 naming the report and the pointer. */
export function groupQueryFile(root: string, report: string, index: number, q: GroupQuery): string {
  const pointer = `/cross_seed/queries/${index}/sql`;
  const bad = (message: string) => new DagError([{ code: 'group-query', file: report, pointer, message: `${message}: ${JSON.stringify(q.sql)}`, fix: 'cross_seed.queries[].sql is a project-relative path to a .sql file inside the project' }]);
  if (isAbsolute(q.sql) || !q.sql.endsWith('.sql')) throw bad('not a project-relative .sql file');
  const file = resolve(root, q.sql);
  const inside = (p: string, r: string) => !relative(r, p).startsWith('..') && !isAbsolute(relative(r, p));
  if (!inside(file, root)) throw bad('outside the project');
  if (!existsSync(file)) throw bad('no such file');
  if (!inside(realpathSync(file), realpathSync(root)) || realpathSync(file) === realpathSync(root)) throw bad('resolves outside the project');
  return file;
}

export async function runGroupQuery(file: string, q: GroupQuery, runs: (GroupRun & { dir: string })[], threads: number): Promise<GroupQueryResult> {
  const played: Record<string, string> = {};
  for (const [role, seed] of Object.entries(q.roles)) {
    const run = runOfSeed(runs, seed) as (GroupRun & { dir: string }) | undefined;
    if (!run) return { values: {}, figures: {}, runs: played, error: `no succeeded run of seed ${seed} (role ${role}) in the group` };
    played[role] = run.run;
  }
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const con = await db.connect();
  try {
    for (const [role, id] of Object.entries(played)) await createDatasetViews(con, publishedDatasets(runs.find((r) => r.run === id)!.dir), role);
    let rows: Record<string, unknown>[];
    try {
      rows = (await con.runAndReadAll(readFileSync(file, 'utf8'))).getRowObjectsJS() as Record<string, unknown>[];
    } catch (e) {
      return { values: {}, figures: {}, runs: played, error: `the query failed: ${(e as Error).message.split('\n')[0]}` };
    }
    if (rows.length !== 1) return { values: {}, figures: {}, runs: played, error: `the query returned ${rows.length} rows, not one` };
    const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'bigint' ? Number(v) : null);
    const row = rows[0]!;
    const missing = q.gates.filter((g) => !(g in row));
    if (missing.length) return { values: {}, figures: {}, runs: played, error: `the query has no column ${missing.join(', ')}` };
    const values = Object.fromEntries(q.gates.map((g) => [g, num(row[g])]));
    const figures = Object.fromEntries(Object.entries(row).filter(([k, v]) => !q.gates.includes(k) && num(v) !== null).map(([k, v]) => [k, num(v)]));
    return { values, figures, runs: played };
  } finally {
    con.closeSync();
    db.closeSync();
  }
}

/**
 * The certifications of a group's runs (in the order they ran): the reports' group queries, their
 * files checked first (exit 2 on a bad one), then run, then every declaring report certified.
 */
export async function certifyRuns(root: string, threads: number, runs: (GroupRun & { dir: string })[]): Promise<Certification[]> {
  const queries = groupQueriesOf(runs).map((q) => ({ ...q, file: groupQueryFile(root, q.report, q.index, q.query) }));
  const results: GroupQueryResults = new Map();
  for (const q of queries) {
    if (!results.has(q.report)) results.set(q.report, new Map());
    results.get(q.report)!.set(q.index, await runGroupQuery(q.file, q.query, runs, threads));
  }
  return certifyGroup(runs, results);
}
