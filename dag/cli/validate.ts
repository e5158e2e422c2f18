import type { Command } from 'commander';
import { validateDocumentInputs, validateTableInputs } from '../graph/inputs.js';
import { Diagnostics } from '../project/diagnostics.js';
import { count } from '../log/format.js';
import { compileInto, globalOptions, out, printJson } from './context.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('compile the project and check everything: manifests, contracts, the graph, schema-bound input files')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const diags = new Diagnostics();
      const cp = compileInto(globalOptions(cmd), diags);
      if (cp) {
        validateDocumentInputs(cp, diags); // input files too, even when the graph has problems
        await validateTableInputs(cp, diags);
      }
      diags.throwIfAny();
      if (!cp) return;
      const summary = { ok: true, root: cp.project.root, states: cp.states.size, datasets: cp.producers.size, segments: new Set([...cp.states.values()].map((s) => s.segment)).size, contracts: cp.project.contracts.files.length };
      if (opts.json) printJson(summary);
      else out(`ok: ${count(summary.states, 'state')} in ${count(summary.segments, 'segment')}, ${count(summary.datasets, 'dataset')}, ${count(summary.contracts, 'contract file')}`);
    });
}
