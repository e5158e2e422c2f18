import { Command, CommanderError } from 'commander';
import { DagError, EXIT, formatDiagnostic } from '../project/diagnostics.js';
import { registerDiff } from './diff.js';
import { registerGraph } from './graph.js';
import { registerMatrix } from './matrix.js';
import { registerLabel } from './label.js';
import { registerPlan } from './plan.js';
import { registerPrune } from './prune.js';
import { registerPerf } from './perf.js';
import { registerQuery } from './query.js';
import { registerReport } from './report.js';
import { registerRun } from './run.js';
import { registerRuns } from './runs.js';
import { registerVerify } from './verify.js';
import { registerShow } from './show.js';
import { registerValidate } from './validate.js';

export function buildProgram(): Command {
  const program = new Command('dag')
    .description('A DAG orchestrator for declarative state manifests: validate, plan, run, prune.')
    .option('--root <dir>', 'project root (default: the nearest folder upwards holding dag.yaml)')
    .option('--verbose', 'print stack traces for errors')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerValidate(program);
  registerGraph(program);
  registerShow(program);
  registerMatrix(program);
  registerPlan(program);
  registerRun(program);
  registerRuns(program);
  registerVerify(program);
  registerPerf(program);
  registerQuery(program);
  registerDiff(program);
  registerLabel(program);
  registerPrune(program);
  registerReport(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Runs the CLI and returns the exit code (ORCHESTRATOR.md §12). */
export async function main(argv: string[]): Promise<number> {
  quietOnClosedPipes();
  const program = buildProgram();
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
