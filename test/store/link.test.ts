// Publishing by hard link (dag/store/atomic.ts linkOrCopy): an object that many run files share
// reaches the file system's limit of links per inode (ext4: 65 000), found by the no-op bench of
// issue 15 at 10 000 states; the file is then copied, read-only, instead of failing the state.
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { linkOrCopy } from '../../dag/store/atomic.js';

const dir = mkdtempSync(join(tmpdir(), 'dag-link-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Links `src` until the file system refuses; the count, or undefined when it has no limit below 70 000. */
function linkToLimit(src: string, into: string): number | undefined {
  mkdirSync(into);
  for (let i = 0; i < 70_000; i++) {
    try {
      linkSync(src, join(into, String(i)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EMLINK') return i;
      throw e;
    }
  }
  return undefined;
}

describe('linkOrCopy', () => {
  it('links when it can (one inode)', () => {
    const src = join(dir, 'one');
    writeFileSync(src, 'bytes');
    linkOrCopy(src, join(dir, 'one-link'));
    expect(statSync(join(dir, 'one-link')).ino).toBe(statSync(src).ino);
  });

  it('copies, read-only, a file that has as many links as the file system allows', (ctx) => {
    const src = join(dir, 'shared');
    writeFileSync(src, 'the same bytes in every run');
    const limit = linkToLimit(src, join(dir, 'links'));
    if (limit === undefined) return ctx.skip(); // this file system (tmpfs, xfs) has no such limit
    const dest = join(dir, 'published');
    linkOrCopy(src, dest);
    const st = statSync(dest);
    expect(st.ino, 'a copy, not another link').not.toBe(statSync(src).ino);
    expect(readFileSync(dest, 'utf8')).toBe('the same bytes in every run');
    expect(st.mode & 0o777).toBe(0o444);
  }, 60_000);
});
