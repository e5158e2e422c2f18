import { Command, CommanderError } from 'commander';
import { DagError, EXIT, formatDiagnostic } from '../project/diagnostics.js';
type Register = (program: Command) => void;

/**
 * The commands in help order, each loaded only when asked for: `dag run` does not pay for the
 * imports of `dag query` or `dag report` (a third of a small no-op run was eager imports).
 */
const COMMANDS: [name: string, load: () => Promise<Register>][] = [
  ['validate', async () => (await import('./validate.js')).registerValidate],
  ['graph', async () => (await import('./graph.js')).registerGraph],
  ['show', async () => (await import('./show.js')).registerShow],
  ['matrix', async () => (await import('./matrix.js')).registerMatrix],
  ['plan', async () => (await import('./plan.js')).registerPlan],
  ['run', async () => (await import('./run.js')).registerRun],
  ['runs', async () => (await import('./runs.js')).registerRuns],
  ['verify', async () => (await import('./verify.js')).registerVerify],
  ['perf', async () => (await import('./perf.js')).registerPerf],
  ['query', async () => (await import('./query.js')).registerQuery],
  ['diff', async () => (await import('./diff.js')).registerDiff],
  ['label', async () => (await import('./label.js')).registerLabel],
  ['prune', async () => (await import('./prune.js')).registerPrune],
  ['report', async () => (await import('./report.js')).registerReport],
  ['ui', async () => (await import('./ui.js')).registerUi],
  ['sweep', async () => (await import('./sweep.js')).registerSweep],
  ['completion', async () => (await import('./completion.js')).registerCompletion],
  ['worker', async () => (await import('./worker.js')).registerWorker],
];

/** Commands another registers beside its own (`unlabel` with `label`): loaded by that one's name. */
const REGISTERED_BY: Record<string, string> = { unlabel: 'label', __complete: 'completion' };

/** The command an argv names (its first operand past the global options), if it is one of ours. */
export function commandOf(argv: string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--root') {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return COMMANDS.some(([n]) => n === (REGISTERED_BY[a] ?? a)) ? (REGISTERED_BY[a] ?? a) : undefined;
  }
  return undefined;
}

/** The program with every command (`only`: just that one, for a command line that names it). */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command('dag')
    .description('A DAG orchestrator for declarative state manifests: validate, plan, run, prune.')
    .option('--root <dir>', 'project root (default: the nearest folder upwards holding dag.yaml)')
    .option('--verbose', 'print stack traces for errors')
    .option('-V, --version', "print dag's version and DuckDB's, then exit")
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const wanted = COMMANDS.filter(([n]) => only === undefined || n === only);
  for (const register of await Promise.all(wanted.map(([, load]) => load()))) register(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Runs the CLI and returns the exit code (ORCHESTRATOR.md §12). */
export async function main(argv: string[]): Promise<number> {
  quietOnClosedPipes();
  const json = argv.includes('--json');
  const args = argv.slice(2);
  const end = args.indexOf('--');
  if ((end < 0 ? args : args.slice(0, end)).some((a) => a === '--version' || a === '-V')) {
    const { versions } = await import('../fingerprint/versions.js');
    const v = versions(process.cwd());
    process.stdout.write(json ? JSON.stringify({ dag: v.dag, duckdb: v.duckdb, node: process.version }) + '\n' : `dag ${v.dag} (DuckDB ${v.duckdb}, Node ${process.version})\n`);
    return EXIT.ok;
  }
  const program = await buildProgram(commandOf(argv));
  // under --json a usage error is a JSON document too (commander's own words still go to stderr);
  // every command has its own copy of the output settings, so each gets it
  if (json) {
    const outputError = (s: string, write: (s: string) => void) => {
      write(s);
      process.stdout.write(JSON.stringify({ ok: false, exit_code: EXIT.invalid, errors: [{ code: 'usage', file: '(command line)', message: s.replace(/^error: /, '').trim() }] }, null, 2) + '\n');
    };
    for (const c of [program, ...program.commands]) c.configureOutput({ writeErr: (s) => process.stderr.write(s), outputError });
  }
  const verbose = argv.includes('--verbose');
  try {
    process.exitCode = undefined;
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
      return EXIT.invalid;
    }
    if (err instanceof DagError) {
      const n = err.diagnostics.length;
      if (argv.includes('--json')) process.stdout.write(JSON.stringify({ ok: false, exit_code: err.exitCode, errors: err.diagnostics }, null, 2) + '\n');
      process.stderr.write(err.diagnostics.map((d) => 'error: ' + formatDiagnostic(d)).join('\n') + '\n');
      if (err.exitCode === EXIT.invalid && n > 1) process.stderr.write(`${n} problems\n`);
      if (verbose) process.stderr.write((err.stack ?? '') + '\n');
      return err.exitCode;
    }
    const io = err as NodeJS.ErrnoException;
    if (io.code === 'ENOSPC' || io.code === 'EDQUOT' || io.code === 'EIO' || io.code === 'EROFS') {
      // the disk, not dag: say which and what to do, without a stack trace
      const what = io.code === 'ENOSPC' ? 'the disk is full' : io.code === 'EDQUOT' ? 'the disk quota is used up' : io.code === 'EROFS' ? 'the file system is read-only' : 'an I/O error';
      process.stderr.write(`error: ${io.path ?? '(a file of the run)'}: ${what} (${io.code}${io.syscall ? `, ${io.syscall}` : ''}) [${io.code === 'ENOSPC' ? 'disk-full' : 'io-error'}]\n    fix: free space under the runs folder (dag prune --yes frees superseded runs) and run again; a failed run resumes with dag run --resume RUN\n`);
      return EXIT.failed;
    }
    process.stderr.write(`internal error: ${(err as Error).message ?? String(err)}\n`);
    process.stderr.write(verbose ? ((err as Error).stack ?? '') + '\n' : '(run with --verbose for the stack trace)\n');
    return EXIT.failed;
  }
}

/**
 * A closed stdout or stderr (`dag run | head`) never aborts a run: once a write fails (EPIPE), that
 * stream's further writes are dropped and the command goes on to its own exit code.
 */
function quietOnClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listenerCount('error') > 0) continue;
    stream.on('error', () => {
      stream.write = ((_chunk: unknown, enc?: unknown, cb?: unknown) => {
        const done = typeof enc === 'function' ? enc : cb;
        if (typeof done === 'function') (done as () => void)();
        return true;
      }) as typeof stream.write;
    });
  }
}
