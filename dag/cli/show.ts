import type { Command } from 'commander';
import { rerunScope } from '../graph/select.js';
import { globalOptions, openProject, out, printJson, stateIdOrFail } from './context.js';

export function registerShow(program: Command): void {
  program
    .command('show')
    .description('everything about one state: manifest, inputs, outputs, neighbours, rerun scope')
    .argument('<state>', 'state id (6A.S2), or a short id (S2) when only one segment has it')
    .option('--json', 'print as JSON')
    .action((text: string, opts: { json?: boolean }, cmd: Command) => {
      const cp = openProject(globalOptions(cmd));
      const id = stateIdOrFail(cp, text);
      const s = cp.states.get(id)!;
      const view = {
        id,
        title: s.manifest.data.title,
        manifest: s.manifest.file,
        kernel: s.kernel,
        scope: s.scope,
        requires_pass: s.requiresPass,
        inputs: [...s.datasetInputs.map((d) => ({ dataset: d, from: cp.producers.get(d) })), ...s.fileInputs],
        outputs: s.outputs,
        gate: s.gate,
        upstream: cp.graph.inNeighbors(id).sort(),
        downstream: cp.graph.outNeighbors(id).sort(),
        rerun: { ...s.rerun, reruns: rerunScope(cp, id) },
        budget_seconds: s.budgetSeconds,
      };
      if (opts.json) return printJson(view);
      out(`${id}${view.title ? ` — ${view.title}` : ''}`);
      out(`  manifest   ${view.manifest}`);
      out(`  kernel     ${view.kernel}`);
      out(`  scope      ${view.scope}`);
      if (view.requires_pass.length) out(`  requires   ${view.requires_pass.join(', ')} (HashGate)`);
      out('  inputs');
      for (const d of s.datasetInputs) out(`    dataset  ${d}  <- ${cp.producers.get(d)}`);
      for (const f of s.fileInputs) out(`    file     ${f.file}  as ${f.as}, ${f.role}${f.schema ? `, schema ${f.schema}` : ''}`);
      out('  outputs');
      for (const o of s.outputs) out(`    ${o.dataset}  ${o.format}  ${o.path}\n      schema ${o.schema}${o.order_by ? `  order_by ${o.order_by.join(', ')}` : ''}`);
      if (s.gate) out(`  gate       ${s.gate.path}/${s.gate.index}`);
      out(`  upstream   ${view.upstream.join(', ') || '(none)'}`);
      out(`  downstream ${view.downstream.join(', ') || '(none)'}`);
      out(`  rerun      scope ${s.rerun.scope}, triggers ${s.rerun.triggers.join(', ')}`);
      out(`  a change here reruns: ${view.rerun.reruns.join(' -> ')}`);
      if (s.budgetSeconds !== undefined) out(`  budget     ${s.budgetSeconds}s`);
    });
}
