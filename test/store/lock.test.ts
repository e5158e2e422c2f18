// Run locks (ORCHESTRATOR.md §6, §12): exclusive while the holder lives (refusal is exit 3, naming
// the pid); the lock of a dead process is taken over, and the caller is told so it can log it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DagError, EXIT } from '../../dag/project/diagnostics.js';
import { acquireLock, isAlive, LOCK, lockHolder, readLock } from '../../dag/store/lock.js';

const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));
function runDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'dag-store-lock-'));
  made.push(d);
  return d;
}
const writeLock = (dir: string, pid: number, host = hostname()) => writeFileSync(join(dir, LOCK), JSON.stringify({ pid, host, since: '2020-01-01T00:00:00.000Z' }));

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

/** Calls `f`, expecting a DagError; returns it. */
function refusal(f: () => unknown): DagError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DagError);
    return e as DagError;
  }
  throw new Error('expected a DagError, got none');
}

let sleeper: ChildProcess;
beforeAll(async () => {
  sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'ignore' });
  await new Promise((r) => sleeper.on('spawn', r));
});
afterAll(() => {
  sleeper.kill('SIGKILL');
});

describe('isAlive', () => {
  it('tells a live process from a dead one', async () => {
    expect(isAlive(process.pid)).toBe(true);
    expect(isAlive(sleeper.pid!)).toBe(true);
    expect(isAlive(await deadPid())).toBe(false);
  });
});

describe('acquireLock', () => {
  it('creates the lock with this pid and host, and the release removes it', () => {
    const dir = runDir();
    const takeovers: unknown[] = [];
    const release = acquireLock(dir, (s) => takeovers.push(s));
    expect(readLock(dir)).toMatchObject({ pid: process.pid, host: hostname() });
    expect(Date.parse(readLock(dir)!.since)).not.toBeNaN();
    expect(lockHolder(dir)).toBe(process.pid);
    release();
    expect(existsSync(join(dir, LOCK))).toBe(false);
    expect(lockHolder(dir)).toBeUndefined();
    expect(takeovers).toEqual([]);
  });

  it('refuses a lock held by a live process: DagError, exit 3, naming its pid; the lock is untouched', () => {
    const dir = runDir();
    writeLock(dir, sleeper.pid!);
    const before = readFileSync(join(dir, LOCK), 'utf8');
    let told = false;
    const err = refusal(() => acquireLock(dir, () => (told = true)));
    expect(err.exitCode).toBe(EXIT.refused);
    expect(err.exitCode).toBe(3);
    expect(err.diagnostics[0]!.code).toBe('run-locked');
    expect(err.message).toContain(`pid ${sleeper.pid}`);
    expect(told).toBe(false);
    expect(readFileSync(join(dir, LOCK), 'utf8')).toBe(before);
    expect(lockHolder(dir)).toBe(sleeper.pid);
  });

  it('refuses a second acquisition by the same live process', () => {
    const dir = runDir();
    const release = acquireLock(dir, () => {});
    const err = refusal(() => acquireLock(dir, () => {}));
    expect(err.exitCode).toBe(3);
    expect(err.message).toContain(`pid ${process.pid}`);
    release();
  });

  it('refuses a lock from another host, whose process it cannot check', async () => {
    const dir = runDir();
    const pid = await deadPid();
    writeLock(dir, pid, `not-${hostname()}`);
    const err = refusal(() => acquireLock(dir, () => {}));
    expect(err.exitCode).toBe(3);
    expect(err.message).toContain(`pid ${pid} on not-${hostname()}`);
  });

  it('takes over the lock of a dead process and says so, with the stale holder', async () => {
    const dir = runDir();
    const pid = await deadPid();
    writeLock(dir, pid);
    expect(lockHolder(dir)).toBeUndefined();
    const stale: { pid: number; since: string }[] = [];
    const release = acquireLock(dir, (s) => stale.push(s));
    expect(stale).toEqual([expect.objectContaining({ pid, since: '2020-01-01T00:00:00.000Z' })]);
    expect(readLock(dir)).toMatchObject({ pid: process.pid, host: hostname() });
    expect(lockHolder(dir)).toBe(process.pid);
    release();
    expect(existsSync(join(dir, LOCK))).toBe(false);
  });

  it('a release does not remove a lock that another process holds by then', () => {
    const dir = runDir();
    const release = acquireLock(dir, () => {});
    writeLock(dir, sleeper.pid!); // e.g. it was taken over while this process was thought dead
    release();
    expect(readLock(dir)?.pid).toBe(sleeper.pid);
  });
});

describe('acquireLock under contention (issue 13)', () => {
  const ROUNDS = Number(process.env.DAG_LOCK_ROUNDS ?? 100);
  const CONTENDERS = 6;

  it(`${ROUNDS} rounds of ${CONTENDERS} processes racing for a stale lock: exactly one holder each round, and the lock names it`, async () => {
    const { readdirSync, mkdirSync } = await import('node:fs');
    const { fileURLToPath, pathToFileURL } = await import('node:url');
    const base = runDir();
    const stale = await deadPid();
    for (let r = 0; r < ROUNDS; r++) {
      mkdirSync(join(base, `run-${r}`));
      // odd rounds: a stale lock to take over; even rounds: a free lock
      if (r % 2 === 1) writeLock(join(base, `run-${r}`), stale);
    }
    const module = pathToFileURL(join(fileURLToPath(new URL('../..', import.meta.url)), 'dag', 'dist', 'store', 'lock.js')).href;
    const script = fileURLToPath(new URL('../support/lock-contender.mjs', import.meta.url));
    const kids = Array.from({ length: CONTENDERS }, () => spawn(process.execPath, [script, module, base, String(ROUNDS)], { stdio: ['ignore', 'ignore', 'inherit'] }));
    const exited = Promise.all(kids.map((k) => new Promise((res) => k.on('exit', res))));
    const until = async (what: () => boolean) => {
      for (let i = 0; i < 20_000 && !what(); i++) await new Promise((res) => setTimeout(res, 2));
    };
    await until(() => readdirSync(base).filter((n) => n.startsWith('ready-')).length === CONTENDERS);
    const holders: number[] = [];
    // the contenders exit once `done` exists, also when an assertion below fails
    try {
      for (let r = 0; r < ROUNDS; r++) {
        const dir = join(base, `run-${r}`);
        writeFileSync(join(base, `go-${r}`), '');
        await until(() => readdirSync(dir).filter((n) => n.startsWith('result-')).length === CONTENDERS);
        const results = readdirSync(dir).filter((n) => n.startsWith('result-')).map((n) => ({ pid: Number(n.slice(7)), outcome: readFileSync(join(dir, n), 'utf8') }));
        expect(results.filter((x) => !['held', 'refused'].includes(x.outcome)), `round ${r}`).toEqual([]);
        const held = results.filter((x) => x.outcome === 'held');
        expect(held.length, `round ${r}: ${JSON.stringify(results)}`).toBe(1);
        expect(readLock(dir)?.pid).toBe(held[0]!.pid);
        expect(readdirSync(dir).filter((n) => n.includes('.lock.'))).toEqual([]); // no stray temporary or takeover file
        holders.push(held[0]!.pid);
      }
    } finally {
      writeFileSync(join(base, 'done'), '');
    }
    await exited;
    expect(holders).toHaveLength(ROUNDS);
  }, 120_000);

  it('a zombie holder (exited, not reaped) is dead: its lock is taken over', async () => {
    const dir = runDir();
    // a child that exits at once while its parent (sh) never waits for it: a zombie until the parent ends
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = await new Promise<number>((res) => parent.stdout!.once('data', (b: Buffer) => res(Number(String(b).trim()))));
      for (let i = 0; i < 200 && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '); i++) await new Promise((res) => setTimeout(res, 10));
      expect(readFileSync(`/proc/${pid}/stat`, 'utf8')).toContain(') Z ');
      writeLock(dir, pid);
      const stale: unknown[] = [];
      const release = acquireLock(dir, (s) => stale.push(s));
      expect(stale).toEqual([expect.objectContaining({ pid })]);
      expect(readLock(dir)?.pid).toBe(process.pid);
      release();
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('a lock whose pid is now another, later process (pid reuse) is stale: the start time tells them apart', () => {
    const dir = runDir();
    writeFileSync(join(dir, LOCK), JSON.stringify({ pid: sleeper.pid, host: hostname(), since: '2020-01-01T00:00:00.000Z', start: '1' }));
    const stale: unknown[] = [];
    const release = acquireLock(dir, (s) => stale.push(s));
    expect(stale).toHaveLength(1);
    expect(readLock(dir)).toMatchObject({ pid: process.pid });
    expect(readLock(dir)?.start).toMatch(/^\d+$/);
    release();
    expect(existsSync(join(dir, LOCK))).toBe(false);
  });
});
