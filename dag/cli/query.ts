import type { Command } from 'commander';
import { DagError } from '../project/diagnostics.js';
import { createDatasetViews, createDeclaredViews, publishedDatasets, readOnlyFiles } from '../store/datasets.js';
import { resolveRun, runsDirOf } from '../store/runs.js';
import { globalOptions, openProject, out, printJson, table, tableWidth, wideOption } from './context.js';
import { parseInteger } from './request.js';

export function registerQuery(program: Command): void {
  program
    .command('query')
    .description("run SQL (DuckDB) over a run's published datasets, each a view named by its dataset id")
    .argument('<run>', 'run id, unique prefix (4+ characters) or label (last-good)')
    .argument('<sql>', 'the query')
    .option('--json', 'print rows as JSON')
    .addOption(wideOption())
    .option('--limit <n>', 'print at most n rows', parseInteger('--limit', 0, 1_000_000_000), 50)
    .action(async (text: string, sql: string, opts: { json?: boolean; wide?: boolean; limit: number }, cmd: Command) => {
      const cp = openProject(globalOptions(cmd));
      const run = resolveRun(runsDirOf(cp), text);
      const { DuckDBInstance } = await import('@duckdb/node-api');
      const db = await DuckDBInstance.create(':memory:', { threads: String(cp.project.config.duckdb.threads) });
      const con = await db.connect();
      try {
        const byDataset = publishedDatasets(run.dir);
        await createDatasetViews(con, byDataset);
        const views = await createDeclaredViews(con, cp, byDataset);
        await readOnlyFiles(con, [...byDataset.values()].flat());
        let result;
        try {
          result = await con.runAndReadAll(sql);
        } catch (e) {
          throw new DagError([{ code: 'query', file: '(command line)', message: `${(e as Error).message}`, fix: `datasets of this run: ${[...byDataset.keys()].sort().join(', ')}${views.length ? `; views: ${views.sort().join(', ')}` : ''}` }]);
        }
        const rows = result.getRowObjectsJson() as Record<string, unknown>[];
        if (opts.json) return printJson(rows);
        const cols = result.columnNames();
        const shown = rows.slice(0, opts.limit);
        out(table(cols, shown.map((r) => cols.map((c) => (r[c] === null ? 'NULL' : typeof r[c] === 'object' ? JSON.stringify(r[c]) : String(r[c])))), { width: tableWidth(opts) }));
        if (rows.length > shown.length) out(`(${rows.length - shown.length} more rows; --limit to see more)`);
      } finally {
        con.closeSync();
        db.closeSync();
      }
    });
}
