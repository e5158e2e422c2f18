// Issue 13, a full disk: a run whose runs folder fills up ends `failed` (or, when only the bookkeeping
// after its last state failed, `succeeded` with exit 1), exit 1, with a message naming the disk and
// the remedy, no stack trace, no temporary file and no lock left. The runs folder is a small tmpfs,
// so this needs root (mount); it is skipped, saying why, elsewhere.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dag, diamondCopy, tempDir, type Project } from './harness.js';

const mount = tempDir('tmpfs');
let mountable = false;
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount], { stdio: 'ignore' });
  execFileSync('umount', [mount], { stdio: 'ignore' });
  mountable = true;
} catch {
  /* not root, or no mount in this container */
}
afterAll(() => {
  try {
    execFileSync('umount', [mount], { stdio: 'ignore' });
  } catch {
    /* not mounted */
  }
});

const SIZES = (process.env.DAG_DISKFULL_SIZES ?? '16,40,64,80,96').split(',').map(Number);
const project: Project = diamondCopy();

function leftovers(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (/\.tmp-\d+$/.test(e.name) || e.name === '.lock' || e.name === '.tmp') found.push(join(d, e.name));
      if (e.isDirectory()) walk(join(d, e.name));
    }
  };
  walk(dir);
  return found;
}

describe.skipIf(!mountable)('a full disk under the runs folder (tmpfs; needs root to mount)', () => {
  it.each(SIZES)('%i KiB: exit 1, named as a full disk, no stack trace, no .tmp / .lock / *.tmp-<pid> left, the receipt not left running', async (kib) => {
    const runs = join(mount, `r${kib}`);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k`, 'tmpfs', mount]);
    try {
      mkdirSync(runs);
      const r = await dag({ root: project.root, runsDir: runs }, ['run']);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stderr).not.toMatch(/^\s+at \S|Node\.js v|internal error/m);
      expect(r.stdout + r.stderr).toMatch(/disk is full|No space left on device/);
      expect(leftovers(runs)).toEqual([]);
      for (const id of readdirSync(runs).filter((n) => /^[0-9a-f]{32}$/.test(n))) {
        const receipt = join(runs, id, 'run_receipt.json');
        if (existsSync(receipt)) expect(JSON.parse(readFileSync(receipt, 'utf8')).status).not.toBe('running');
      }
    } finally {
      execFileSync('umount', [mount]);
    }
  }, 60_000);
});
