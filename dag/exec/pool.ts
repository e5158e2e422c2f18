import { existsSync } from 'node:fs';
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KernelAnswer, KernelJob, WorkerMessage } from './job.js';
import type { KernelRunner } from './runner.js';

// beside this file, or from the bundle in dag/dist/bundle/ (tools/bundle.mjs), in dag/dist/exec/
const here = dirname(fileURLToPath(import.meta.url));
const WORKER = existsSync(join(here, 'kernel-main.js')) ? join(here, 'kernel-main.js') : join(here, '..', 'exec', 'kernel-main.js');

export type { KernelAnswer } from './job.js';

/**
 * Kernel processes, reused from state to state (each job gets a fresh DuckDB database), so a
 * small state does not pay a process start. A process that dies is never reused, and a crash
 * fails only the job it was running, with its last stderr lines as the error text.
 */
export class KernelPool implements KernelRunner {
  private readonly idle: ChildProcess[] = [];
  private readonly busy = new Set<ChildProcess>();
  private closed = false;
  private writable: string[] = [];

  /**
   * Kernel processes forked from now on may write only beneath these folders (Node's permission
   * model: a TypeScript kernel's fs calls elsewhere fail with ERR_ACCESS_DENIED); DuckDB, native
   * code, is confined by its own settings (worker.ts, confine()).
   */
  confineWrites(folders: string[]): void {
    this.writable = folders.map((f) => (f.endsWith('/') ? f : f + '/'));
  }

  async run(job: KernelJob, onMessage: (m: WorkerMessage) => void): Promise<KernelAnswer> {
    if (this.closed) return 'interrupted';
    const child = this.idle.pop() ?? this.spawn();
    this.busy.add(child);
    let stderr = '';
    let step = 'setup';
    const onErr = (b: Buffer) => (stderr = (stderr + b.toString()).slice(-8000));
    const onOut = (b: Buffer) => onMessage({ type: 'log', level: 'info', message: b.toString().trimEnd() });
    child.stderr!.on('data', onErr);
    child.stdout!.on('data', onOut);
    return new Promise<KernelAnswer>((resolve) => {
      const cleanup = () => {
        child.off('message', onMsg);
        child.off('exit', onExit);
        child.stderr!.off('data', onErr);
        child.stdout!.off('data', onOut);
        this.busy.delete(child);
      };
      const onMsg = (m: WorkerMessage) => {
        if (m.type === 'done' || m.type === 'failed') {
          cleanup();
          if (this.closed) child.kill('SIGKILL');
          else this.idle.push(child);
          resolve(m.type === 'done' ? { result: m.result } : { failure: m.failure });
          return;
        }
        if (m.type === 'step') step = m.name;
        onMessage(m);
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        cleanup();
        resolve(deathAnswer(this.closed, code, signal, step, stderr));
      };
      child.on('message', onMsg);
      child.on('exit', onExit);
      child.send({ type: 'run', job });
    });
  }

  private spawn(): ChildProcess {
    const permission = process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';
    const execArgv = this.writable.length === 0 ? process.execArgv : [...process.execArgv, '--no-warnings', permission, '--allow-fs-read=*', '--allow-addons', ...this.writable.map((w) => `--allow-fs-write=${w}`)];
    const child = fork(WORKER, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced', execArgv });
    // a kernel process killed with the process group (Ctrl-C) fails a send or a kill with EPIPE: its
    // 'exit' handler reports it; the error itself must not crash the orchestrator
    child.on('error', () => {});
    return child;
  }

  /** Kills every kernel process; running jobs answer 'interrupted'. */
  close(): void {
    this.closed = true;
    for (const c of [...this.idle, ...this.busy]) c.kill('SIGKILL');
    this.idle.length = 0;
  }
}

/**
 * What a kernel process's death means for its job. Killed by the pool (the run is stopping), or by
 * SIGINT or SIGTERM, which reach a kernel only with its process group (Ctrl-C, a terminal's
 * hangup) and only before it has set itself to ignore them (while it is still starting): the run
 * is being interrupted, and the job says so. The orchestrator may see this death before its own
 * signal handler runs, so it must not count it as the state's failure. Any other death fails the
 * job, with the kernel's last stderr lines.
 */
export function deathAnswer(closed: boolean, code: number | null, signal: NodeJS.Signals | null, step: string, stderr: string): KernelAnswer {
  if (closed || signal === 'SIGINT' || signal === 'SIGTERM') return 'interrupted';
  const tail = stderr.trim().split('\n').slice(-15).join('\n');
  return { failure: { message: `kernel process died in step '${step}' (${signal ? `signal ${signal}` : `exit code ${code}`})${tail ? `: ${tail}` : ''}`, step } };
}
