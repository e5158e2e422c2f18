import { Command, Option } from 'commander';
import { graphView, renderGraph, type GraphFormat } from '../graph/render.js';
import { globalOptions, openProject, out } from './context.js';

export function registerGraph(program: Command): void {
  program
    .command('graph')
    .description('print the compiled dependency graph')
    .addOption(new Option('--format <format>', 'output format').choices(['mermaid', 'dot', 'json']).default('mermaid'))
    .option('--segment <segment>', 'only the states of one segment (and the edges between them)')
    .addOption(new Option('--json', 'the same as --format json').conflicts('format'))
    .action((opts: { format: GraphFormat; segment?: string; json?: boolean }, cmd: Command) => {
      const cp = openProject(globalOptions(cmd));
      out(renderGraph(graphView(cp, opts.segment), opts.json ? 'json' : opts.format));
    });
}
