import type { Command } from 'commander';
import { DagError, EXIT } from '../project/diagnostics.js';
import { LABEL_PATTERN, LabelStore } from '../store/labels.js';
import { resolveRun } from '../store/runs.js';
import { globalOptions, openRunStore, out, printJson } from './context.js';

export function registerLabel(program: Command): void {
  program
    .command('label')
    .description('label a run; authority, candidate and last-good name one run each (labelling moves them), witness and other labels may name many')
    .argument('<run>', 'run id, unique prefix (4+ characters) or label (last-good)')
    .argument('<label>', 'label')
    .option('--json', 'print as JSON')
    .action((text: string, label: string, opts: { json?: boolean }, cmd: Command) => {
      const { runsDir } = openRunStore(globalOptions(cmd));
      if (!LABEL_PATTERN.test(label)) throw new DagError([{ code: 'bad-label', file: '(command line)', message: `label '${label}' must be lowercase letters, digits, - or _ (at most 40)` }]);
      const run = resolveRun(runsDir, text);
      // last-good is what `--from` stages from by default: only a succeeded run may carry it
      if (label === 'last-good' && run.receipt.status !== 'succeeded') throw new DagError([{ code: 'not-succeeded', file: run.dir, message: `run ${run.id} is ${run.receipt.status}; last-good names a succeeded run (dag run --from stages from it)`, fix: 'label a succeeded run, or use another label' }], EXIT.refused);
      const moved = new LabelStore(runsDir).add(run.id, label);
      if (opts.json) return printJson({ run: run.id, label, moved_from: moved ?? null });
      out(`${run.id} is now ${label}${moved ? ` (moved from ${moved})` : ''}`);
    });
  program
    .command('unlabel')
    .description('remove a label from a run')
    .argument('<run>', 'run id, unique prefix (4+ characters) or label (last-good)')
    .argument('<label>', 'label')
    .option('--json', 'print as JSON')
    .action((text: string, label: string, opts: { json?: boolean }, cmd: Command) => {
      const { runsDir } = openRunStore(globalOptions(cmd));
      const run = resolveRun(runsDir, text);
      const removed = new LabelStore(runsDir).remove(run.id, label);
      if (!removed) throw new DagError([{ code: 'no-label', file: '(command line)', message: `run ${run.id} has no label '${label}'` }]);
      if (opts.json) return printJson({ run: run.id, label, removed: true });
      out(`${run.id} is no longer ${label}`);
    });
}
