import { Argument, type Command } from 'commander';
import { listRuns } from '../store/runs.js';
import { LabelStore } from '../store/labels.js';
import { bashScript, completionModel, zshScript } from './completion-script.js';
import { globalOptions, openRunStore, out, tryOpenProject } from './context.js';

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script (commands, flags, state ids and runs); load it with: source <(dag completion bash)')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh']))
    .action(async (shell: 'bash' | 'zsh') => {
      // the script describes every command, so it reads the whole program, not just this one
      const { buildProgram } = await import('./main.js');
      const model = completionModel(await buildProgram());
      process.stdout.write(shell === 'bash' ? bashScript(model) : zshScript(model));
    });
  // what the scripts ask dag at the cursor: ids of this project and its runs folder, one a line;
  // never an error (a broken project or a missing runs folder completes nothing)
  program
    .command('__complete', { hidden: true })
    .addArgument(new Argument('<what>').choices(['states', 'runs', 'labels']))
    .action((what: 'states' | 'runs' | 'labels', _opts: unknown, cmd: Command) => {
      try {
        const global = globalOptions(cmd);
        if (what === 'states') return out([...(tryOpenProject(global)?.states.keys() ?? [])].sort().join('\n'));
        const { runsDir } = openRunStore(global);
        const labels = new LabelStore(runsDir).names();
        out((what === 'labels' ? labels : [...labels, ...listRuns(runsDir).map((r) => r.id)]).join('\n'));
      } catch {
        // nothing to offer
      }
    });
}
