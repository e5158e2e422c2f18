import type { Command } from 'commander';
import { EXIT } from '../project/diagnostics.js';
import { verifyBundle } from '../store/gate.js';
import { latestOutcomes, readLedger, resolveRun } from '../store/runs.js';
import { isPublished, verifyRun } from '../store/verify.js';
import { globalOptions, openRunStore, out, printJson } from './context.js';
import { count } from '../log/format.js';
import { basename, join } from 'node:path';

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description("rehash every published output of a run against its ledger, and recheck its gates' bundles")
    .argument('<run>', 'run id, unique prefix (4+ characters) or label (last-good)')
    .option('--json', 'print as JSON')
    .action(async (text: string, opts: { json?: boolean }, cmd: Command) => {
      const { runsDir } = openRunStore(globalOptions(cmd));
      const run = resolveRun(runsDir, text);
      const { files, problems } = await verifyRun(run.dir);
      for (const e of latestOutcomes(readLedger(run.dir)).values()) {
        if (!isPublished(e) || !e.gate?.passed) continue;
        // the bundle's index is the file its ledger entry published as the gate index
        const indexFile = e.outputs?.find((o) => o.dataset === '(gate index)')?.path;
        if (!indexFile) continue;
        const index = basename(indexFile);
        const g = await verifyBundle(join(run.dir, e.gate.path), index);
        if (!g.ok) problems.push({ state: e.state, path: e.gate.path, problem: g.problem! });
      }
      if (opts.json) printJson({ run: run.id, files, ok: problems.length === 0, problems });
      else {
        for (const p of problems) out(`FAIL ${p.state}  ${p.path}: ${p.problem}`);
        out(problems.length === 0 ? `ok: ${files} files in run ${run.id} match the ledger` : `${count(problems.length, 'problem')} in ${count(files, 'file')}`);
      }
      process.exitCode = problems.length === 0 ? EXIT.ok : EXIT.failed;
    });
}
