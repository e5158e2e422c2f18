/** Typed events from the executor. Loggers and the terminal view subscribe; exec never formats output. */
export type TaskAction = 'ran' | 'cached' | 'staged' | 'failed' | 'skipped' | 'kept';

export type ExecEvent =
  | { type: 'run-start'; runId: string; runDir: string; tasks: number; seed: number; resumed: boolean; parameterHash: string; manifestFingerprint: string }
  | { type: 'task-start'; task: string; state: string; scenario?: string; estimateSeconds?: number }
  | { type: 'task-step'; task: string; step: string; index: number; count: number }
  | { type: 'task-progress'; task: string; fraction?: number; message?: string }
  | { type: 'task-log'; task: string; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'task-end'; task: string; state: string; action: TaskAction; reason: string; seconds: number; error?: string; gatePassed?: boolean }
  | { type: 'warning'; message: string }
  | { type: 'run-end'; runId: string; runDir: string; status: 'succeeded' | 'failed' | 'interrupted'; counts: Record<TaskAction, number>; seconds: number; labels: string[] };

export type Listener = (e: ExecEvent) => void;

export class EventBus {
  private readonly listeners: Listener[] = [];
  /** Subscribes `l`; the function returned unsubscribes it. */
  on(l: Listener): () => void {
    this.listeners.push(l);
    return () => {
      const i = this.listeners.indexOf(l);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }
  emit(e: ExecEvent): void {
    for (const l of this.listeners) l(e);
  }
}
