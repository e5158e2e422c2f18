import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { Diagnostics } from '../project/diagnostics.js';
import { startUi } from '../ui/server.js';
import { compileInto, globalOptions, openRunStore, out } from './context.js';
import { parseInteger } from './request.js';

export function registerUi(program: Command): void {
  program
    .command('ui')
    .description('serve a read-only dashboard on 127.0.0.1: the graph by segment with plan or run status, the runs, a run\'s timeline, perf, gateboards and certification, live progress of running runs')
    .option('--port <n>', 'port to listen on (0: any free port)', parseInteger('--port', 0, 65535), 4310)
    .option('--open', 'open the page in the default browser')
    .option('--allow-run', 'let the page start `dag run` (POST /api/run); without it the server runs nothing')
    .action(async (opts: { port: number; open?: boolean; allowRun?: boolean }, cmd: Command) => {
      const global = globalOptions(cmd);
      const { root, config, runsDir } = openRunStore(global); // a broken manifest still shows the runs
      const server = await startUi(
        {
          root,
          runsDir,
          threads: config.duckdb.threads,
          allowRun: opts.allowRun === true,
          dagCommand: [process.execPath, process.argv[1]!],
          compile: () => {
            const diags = new Diagnostics();
            const cp = compileInto(global, diags);
            return diags.ok && cp ? { cp, problems: [] } : { problems: diags.items };
          },
        },
        opts.port,
      );
      const address = server.address();
      const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : opts.port}/`;
      out(`dag ui: ${url} (project ${root}${opts.allowRun ? ', runs may be started from the page' : ', read-only'}; Ctrl-C stops it)`);
      if (opts.open) spawn(process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open', [url], { detached: true, stdio: 'ignore' }).on('error', () => out(`could not open a browser: open ${url}`)).unref();
      await new Promise<void>((resolve) => {
        const stop = () => {
          server.close(() => resolve());
          server.closeAllConnections(); // the pages' event streams would hold it open
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
