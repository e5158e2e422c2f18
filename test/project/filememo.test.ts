import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

// A coarse file system clock, simulated: this machine's ext4 stamps ns, so two writes never share
// a ctime here; a test pins a file's times to make them share one, as on a 1 s or 4 ms clock.
const pinned = new Map<string, { mtimeMs: number; ctimeMs: number }>();
vi.mock('node:fs', async (original) => {
  const fs = await original<typeof import('node:fs')>();
  const statSync = ((path: string, opts?: object) => {
    const st = fs.statSync(path, opts as never);
    const pin = pinned.get(path);
    return st && pin ? Object.assign(Object.create(Object.getPrototypeOf(st) as object) as object, st, pin) : st;
  }) as typeof fs.statSync;
  return { ...fs, statSync, default: { ...fs, statSync } };
});
import { FileMemo } from '../../dag/project/filememo.js';
import { removeTemps, tempDir } from '../support/temp.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

afterEach(() => {
  pinned.clear();
  vi.restoreAllMocks();
  FileMemo.use(undefined);
  removeTemps();
});

describe('FileMemo: project file digests remembered by stat', () => {
  it('serves a quiet file from its record, without reading it, and the record outlives the process', () => {
    const dir = tempDir('memo');
    const f = join(dir, 'k.sql');
    writeFileSync(f, 'select 1');
    FileMemo.use(dir);
    // the record is taken "5 s later" than the file's last change: the file is quiet, not racy
    const now = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(now + 5000);
    const first = FileMemo.digest(f);
    expect(first.digest).toBe(sha('select 1'));
    expect(first.bytes?.toString()).toBe('select 1');
    FileMemo.save();
    expect(existsSync(join(dir, 'files.json'))).toBe(true);
    // a new process (the memo re-read from files.json): a stat, no read
    FileMemo.use(undefined);
    FileMemo.use(dir);
    const again = FileMemo.digest(f);
    expect(again).toEqual({ digest: sha('select 1') });
  });

  it('hashes a file again once its stat changed', () => {
    const dir = tempDir('memo');
    const f = join(dir, 'k.sql');
    writeFileSync(f, 'select 1');
    FileMemo.use(dir);
    vi.spyOn(Date, 'now').mockReturnValue(Date.now() + 5000);
    FileMemo.digest(f);
    writeFileSync(f, 'select 10');
    const after = FileMemo.digest(f);
    expect(after.digest).toBe(sha('select 10'));
    expect(after.bytes).toBeDefined();
  });

  it('never believes a record taken within RACY_MS of the file changing: a same-size rewrite in the same clock tick is seen', () => {
    const dir = tempDir('memo');
    const f = join(dir, 'k.sql');
    // two writes of the same size, back to back: on a coarse file system clock both may carry the
    // same mtime and ctime, so only the racy rule tells the second from the first
    writeFileSync(f, 'select 1');
    const st = statSync(f);
    pinned.set(f, { mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs });
    FileMemo.use(dir);
    expect(FileMemo.digest(f).digest).toBe(sha('select 1'));
    writeFileSync(f, 'select 2');
    expect(statSync(f).ctimeMs).toBe(st.ctimeMs); // the same tick: size, times and inode all equal
    const second = FileMemo.digest(f);
    expect(second.digest).toBe(sha('select 2'));
    expect(second.bytes?.toString()).toBe('select 2');
  });

  it('a damaged files.json is ignored, not believed', () => {
    const dir = tempDir('memo');
    const f = join(dir, 'k.sql');
    writeFileSync(f, 'select 1');
    writeFileSync(join(dir, 'files.json'), '{"not json');
    FileMemo.use(dir);
    expect(FileMemo.digest(f).digest).toBe(sha('select 1'));
    FileMemo.save();
    expect(JSON.parse(readFileSync(join(dir, 'files.json'), 'utf8'))[f].sha256).toBe(sha('select 1'));
  });
});
