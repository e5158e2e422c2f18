import { Worker } from 'node:worker_threads';

/**
 * The worker's loop: makes each folder in order, counting the ones made (a folder that exists
 * counts; another error stops it, and the run makes that folder and the rest itself).
 */
const SOURCE = `
const { mkdirSync } = require('node:fs');
const { workerData } = require('node:worker_threads');
const { dirs, state } = workerData;
const made = new Int32Array(state);
for (let i = 0; i < dirs.length && Atomics.load(made, 1) === 0; i++) {
  try {
    mkdirSync(dirs[i]);
  } catch (e) {
    if (e.code !== 'EEXIST') break;
  }
  Atomics.store(made, 0, i + 1);
}
`;

/**
 * Makes a run's folders ahead of its tasks, on a second thread: a task served from the cache costs
 * two new folders and a hard link, and on a slow file system the folders are half of a no-op
 * run's time (bench/RESULTS.md), which this thread takes off the one that decides and publishes.
 * It never blocks a task: a folder it has not made yet, the task makes itself (a folder made twice
 * is found to exist), so the run is exactly what it is without it.
 */
export class FolderPrefetch {
  private readonly index = new Map<string, number>();
  /** [0]: how many folders of the list are made; [1]: 1 once the run asked the thread to stop. */
  private readonly state = new Int32Array(new SharedArrayBuffer(8));
  private readonly worker: Worker;

  /**
   * `dirs`: absolute paths, each after its parent (or with a parent that exists). `bases`: per
   * task, where its linked folders are built (`<base>.out<i>`, made here).
   */
  constructor(dirs: readonly string[], private readonly bases: ReadonlyMap<string, string>) {
    dirs.forEach((d, i) => this.index.set(d, i));
    this.worker = new Worker(SOURCE, { eval: true, workerData: { dirs, state: this.state.buffer } });
    this.worker.on('error', () => undefined); // a thread that cannot start only means the tasks make their folders
    this.worker.unref();
  }

  /** True when `dir` is one of the list and the thread has made it (or found it made). */
  has(dir: string): boolean {
    const i = this.index.get(dir);
    return i !== undefined && Atomics.load(this.state, 0) > i;
  }

  linkBase(task: string): string | undefined {
    return this.bases.get(task);
  }

  /** Stops the thread and waits for it: no folder of the list is made after this returns. */
  async close(): Promise<void> {
    Atomics.store(this.state, 1, 1);
    await this.worker.terminate();
  }
}
