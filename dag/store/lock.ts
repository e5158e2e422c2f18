import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DagError, EXIT } from '../project/diagnostics.js';

export const LOCK = '.lock';
/** A takeover folder older than this belongs to a process that died taking over: it is cleared. */
const TAKEOVER_STALE_MS = 30_000;

interface LockInfo {
  pid: number;
  host: string;
  since: string;
  /** The holder's start time (Linux: clock ticks since boot, /proc/<pid>/stat field 22), so a reused pid is not mistaken for it. */
  start?: string;
}

/** A process's state and start time from /proc (Linux); undefined where /proc does not have it. */
function procStat(pid: number): { state: string; start: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm, field 2, is in parentheses and may hold spaces: the fields after its last ')' are fixed
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, start: rest[19]! };
  } catch {
    return undefined;
  }
}

const procAvailable = (() => {
  try {
    statSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
})();

/** Is this pid a live process? A zombie (exited, not yet reaped: common in containers) is dead. */
export function isAlive(pid: number, start?: string): boolean {
  if (procAvailable) {
    const s = procStat(pid);
    if (!s) return false;
    if (s.state === 'Z' || s.state === 'X') return false;
    return start === undefined || s.start === start;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLockText(runDir: string): string | undefined {
  try {
    return readFileSync(join(runDir, LOCK), 'utf8');
  } catch {
    return undefined;
  }
}

function parseLock(text: string | undefined): LockInfo | undefined {
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as LockInfo;
    return typeof v.pid === 'number' && typeof v.host === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

export function readLock(runDir: string): LockInfo | undefined {
  return parseLock(readLockText(runDir));
}

const held = (info: LockInfo) => info.host !== hostname() || isAlive(info.pid, info.start);

/**
 * The pid holding the run's lock, if that process is alive; a lock taken on another host counts
 * as held (its process cannot be checked from here, so it is never treated as stale).
 */
export function lockHolder(runDir: string): number | undefined {
  const info = readLock(runDir);
  return info && held(info) ? info.pid : undefined;
}

/** How a refused lock is reported: the code, what is locked (the message's subject) and the fix. */
export interface LockRefusal {
  code: string;
  subject: string;
  fix: string;
}

const RUN_LOCKED: LockRefusal = { code: 'run-locked', subject: 'run', fix: 'wait for that run to finish, or stop it' };

/**
 * Takes the run's exclusive lock. The lock file appears whole or not at all: it is written beside
 * and hard-linked into place, and link(2) fails when the name exists, so exactly one process of
 * any number racing for a free lock gets it. A live holder means refusal (exit 3, naming its pid).
 * A dead holder's lock (no such process, a zombie, or its pid reused by a process started later)
 * is taken over under a takeover folder (mkdir(2), exclusive too): the taker checks that the lock
 * is still the stale one it saw, removes it and links its own; every other contender then finds a
 * live holder. `onTakeover` is told, so that it can be logged.
 */
export function acquireLock(runDir: string, onTakeover: (stale: LockInfo) => void, refusal: LockRefusal = RUN_LOCKED): () => void {
  const path = join(runDir, LOCK);
  const me = procStat(process.pid);
  const mine: LockInfo = { pid: process.pid, host: hostname(), since: new Date().toISOString(), ...(me ? { start: me.start } : {}) };
  const text = JSON.stringify(mine);
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const refuse = (message: string) => new DagError([{ code: refusal.code, file: path, message: `${refusal.subject} ${message}`, fix: refusal.fix }], EXIT.refused);
  writeFileSync(tmp, text);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const seen = readLockText(runDir);
      const holder = parseLock(seen);
      if (holder && held(holder)) throw refuse(`is locked by pid ${holder.pid} on ${holder.host} (since ${holder.since})`);
      if (attempt >= 3) throw refuse('has a lock that kept changing while this process tried to take over a stale one');
      // stale (or unreadable): one taker at a time
      const takeover = `${path}.takeover`;
      try {
        mkdirSync(takeover);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        let age = 0;
        try {
          age = Date.now() - statSync(takeover).mtimeMs;
        } catch {
          continue; // it has just gone: try again
        }
        if (age > TAKEOVER_STALE_MS) {
          rmSync(takeover, { recursive: true, force: true });
          continue;
        }
        throw refuse('has a stale lock that another process is taking over at this moment');
      }
      try {
        if (readLockText(runDir) !== seen) continue; // someone else took it meanwhile: look again
        rmSync(path, { force: true });
        linkSync(tmp, path); // EEXIST here: a contender linked first after the removal; it holds the lock
        if (holder) onTakeover(holder);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      } finally {
        rmSync(takeover, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  return () => {
    if (readLockText(runDir) === text) rmSync(path, { force: true });
  };
}
