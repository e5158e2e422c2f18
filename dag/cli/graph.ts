import { Command, Option } from 'commander';
import { graphView, renderGraph, type GraphFormat } from '../graph/render.js';
import { globalOptions, openProject, out } from './context.js';
import { shownStates, targetOptions, type TargetFlags } from './targets.js';

interface GraphFlags extends TargetFlags {
  format: GraphFormat;
  segment?: string;
  json?: boolean;
}

export function registerGraph(program: Command): void {
  targetOptions(
    program
      .command('graph')
      .description('print the compiled dependency graph, or the subgraph the states and flags select')
      .argument('[states...]', 'only these states (and the edges between them)'),
  )
    .addOption(new Option('--format <format>', 'output format').choices(['mermaid', 'dot', 'json']).default('mermaid'))
    .option('--segment <segment>', 'only the states of one segment (and the edges between them)')
    .addOption(new Option('--json', 'the same as --format json').conflicts('format'))
    .action((states: string[], flags: GraphFlags, cmd: Command) => {
      const cp = openProject(globalOptions(cmd));
      out(renderGraph(graphView(cp, shownStates(cp, states, flags).shown), flags.json ? 'json' : flags.format));
    });
}
