// The scheduler alone (issue 14): a fake task runner, no DuckDB, no processes. Order, skip
// propagation, --jobs, abort and the two kinds of error.
import { describe, expect, it } from 'vitest';
import { schedule, type Ending, type Schedulable, type SchedulerHooks } from '../../dag/exec/scheduler.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A diamond with a tail and an independent branch: a -> b, c -> d -> e; x alone; y after x. */
const GRAPH: Schedulable[] = [
  { key: 'a', deps: [] },
  { key: 'b', deps: ['a'] },
  { key: 'c', deps: ['a'] },
  { key: 'd', deps: ['b', 'c'] },
  { key: 'e', deps: ['d'] },
  { key: 'x', deps: [] },
  { key: 'y', deps: ['x'] },
];

interface Trace {
  started: string[];
  ended: Record<string, Ending | `skipped: ${string}` | `error: ${string}`>;
  maxRunning: number;
}

/** Hooks whose tasks take `ms` each and end as `endings` says (default succeeded); `throws` keys throw from run. */
function fake(opts: { ms?: number; endings?: Record<string, Ending>; throws?: string[]; onStart?: (key: string) => void; internalThrows?: boolean } = {}): { hooks: SchedulerHooks<Schedulable>; trace: Trace; abort: () => void } {
  const trace: Trace = { started: [], ended: {}, maxRunning: 0 };
  let running = 0;
  let aborted = false;
  const hooks: SchedulerHooks<Schedulable> = {
    run: async (t) => {
      trace.started.push(t.key);
      running++;
      trace.maxRunning = Math.max(trace.maxRunning, running);
      opts.onStart?.(t.key);
      await sleep(opts.ms ?? 5);
      running--;
      if (opts.throws?.includes(t.key)) throw new Error(`boom in ${t.key}`);
      const how = opts.endings?.[t.key] ?? 'succeeded';
      trace.ended[t.key] = how;
      return how;
    },
    skip: (t, reason) => {
      trace.ended[t.key] = `skipped: ${reason}`;
    },
    internalError: (t, e) => {
      if (opts.internalThrows) throw new Error(`bookkeeping failed for ${t.key}`);
      trace.ended[t.key] = `error: ${(e as Error).message}`;
    },
    aborted: () => aborted,
    abort: () => {
      aborted = true;
    },
  };
  return { hooks, trace, abort: hooks.abort };
}

describe('schedule', () => {
  it('runs every task after all of its dependencies', async () => {
    const { hooks, trace } = fake();
    await schedule(GRAPH, new Set(), 2, hooks);
    expect(Object.keys(trace.ended).sort()).toEqual(GRAPH.map((t) => t.key).sort());
    const at = (k: string) => trace.started.indexOf(k);
    for (const t of GRAPH) for (const d of t.deps) expect(at(d), `${d} before ${t.key}`).toBeLessThan(at(t.key));
  });

  it('a failure skips everything downstream of it, naming the cause, and the independent branch still runs', async () => {
    const { hooks, trace } = fake({ endings: { b: 'failed' } });
    await schedule(GRAPH, new Set(), 2, hooks);
    expect(trace.ended).toEqual({
      a: 'succeeded',
      b: 'failed',
      c: 'succeeded',
      d: 'skipped: upstream b failed',
      e: 'skipped: upstream d skipped',
      x: 'succeeded',
      y: 'succeeded',
    });
    expect(trace.started).not.toContain('d');
  });

  it('a task skipped through two failed parents is skipped once', async () => {
    const skips: string[] = [];
    const { hooks } = fake({ endings: { b: 'failed', c: 'failed' } });
    const skip = hooks.skip;
    hooks.skip = (t, r) => {
      skips.push(t.key);
      skip(t, r);
    };
    await schedule(GRAPH, new Set(), 2, hooks);
    expect(skips.sort()).toEqual(['d', 'e']);
  });

  it.each([1, 2, 3])('--jobs %i: never more tasks at once than that, and as many when the graph allows', async (jobs) => {
    const wide: Schedulable[] = Array.from({ length: 6 }, (_, i) => ({ key: `t${i}`, deps: [] }));
    const { hooks, trace } = fake({ ms: 20 });
    await schedule(wide, new Set(), jobs, hooks);
    expect(trace.maxRunning).toBe(jobs);
    expect(trace.started).toHaveLength(6);
  });

  it('tasks kept by a resume are not run, and count as succeeded for their dependants', async () => {
    const { hooks, trace } = fake();
    await schedule(GRAPH, new Set(['a', 'b', 'c']), 1, hooks);
    expect(trace.started.sort()).toEqual(['d', 'e', 'x', 'y']);
  });

  it('abort: no task starts after it, and schedule returns once the running ones end', async () => {
    let abort = () => {};
    const made = fake({ ms: 20, onStart: (k) => k === 'a' && abort() });
    abort = made.abort;
    await schedule(GRAPH, new Set(), 1, made.hooks);
    expect(made.trace.started).toEqual(['a']);
  });

  it('an interrupted task (the run is being stopped) aborts the run: nothing more starts, nothing is skipped', async () => {
    const { hooks, trace } = fake({ endings: { a: 'interrupted' } });
    await schedule(GRAPH, new Set(), 1, hooks);
    expect(trace.started).toEqual(['a']);
    expect(Object.values(trace.ended).filter((v) => v.startsWith('skipped'))).toEqual([]);
    expect(hooks.aborted()).toBe(true);
  });

  it('an error a task throws is recorded as its failure, and its dependants are skipped', async () => {
    const { hooks, trace } = fake({ throws: ['x'] });
    await schedule(GRAPH, new Set(), 2, hooks);
    expect(trace.ended.x).toBe('error: boom in x');
    expect(trace.ended.y).toBe('skipped: upstream x failed');
    expect(trace.ended.e).toBe('succeeded');
  });

  it("an error of the run's own bookkeeping aborts the run and rejects with it", async () => {
    const { hooks } = fake({ throws: ['a'], internalThrows: true });
    await expect(schedule(GRAPH, new Set(), 1, hooks)).rejects.toThrow('bookkeeping failed for a');
    expect(hooks.aborted()).toBe(true);
  });

  it('an empty graph, and a graph all kept, end at once', async () => {
    const { hooks, trace } = fake();
    await schedule([], new Set(), 2, hooks);
    await schedule(GRAPH, new Set(GRAPH.map((t) => t.key)), 2, hooks);
    expect(trace.started).toEqual([]);
  });
});
