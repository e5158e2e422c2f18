import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
let cached: { dag: string; duckdb: string } | undefined;
const gitByRoot = new Map<string, string | null>();

/** Versions that go into receipts and cache keys. */
export function versions(root: string, projectVersion?: string): { engine: string | null; dag: string; git: string | null; duckdb: string } {
  if (!cached) {
    const require = createRequire(import.meta.url);
    const duckdbPkg = JSON.parse(readFileSync(require.resolve('@duckdb/node-api/package.json'), 'utf8')) as { version: string };
    const dagPkg = JSON.parse(readFileSync(ownPackageJson(), 'utf8')) as { version: string };
    cached = { dag: dagPkg.version, duckdb: duckdbPkg.version };
  }
  let engine: string | null = projectVersion ?? null;
  if (engine === null) try {
    engine = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? null;
  } catch {
    /* a project without package.json */
  }
  let git: string | null | undefined = gitByRoot.get(root) ?? null;
  if (!gitByRoot.has(root)) {
    git = readGitHead(root);
    if (git === undefined) try {
      git = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    } catch {
      git = null; // not a git checkout
    }
  }
  gitByRoot.set(root, git ?? null);
  return { engine, dag: cached.dag, git: git ?? null, duckdb: cached.duckdb };
}

/**
 * The commit HEAD names, read from the repository's files (no `git` process on every command):
 * null outside a repository, undefined when the layout is one this does not read (worktrees,
 * an unborn branch), for `git rev-parse` to answer.
 */
export function readGitHead(root: string): string | null | undefined {
  let dir = resolve(root);
  for (;;) {
    const dotGit = join(dir, '.git');
    if (existsSync(dotGit)) {
      if (!statSync(dotGit).isDirectory()) return undefined;
      try {
        const head = readFileSync(join(dotGit, 'HEAD'), 'utf8').trim();
        if (/^[0-9a-f]{40}$/.test(head)) return head;
        const ref = /^ref: (refs\/[^\s]+)$/.exec(head)?.[1];
        if (!ref) return undefined;
        if (existsSync(join(dotGit, ref))) return readFileSync(join(dotGit, ref), 'utf8').trim();
        const packed = readFileSync(join(dotGit, 'packed-refs'), 'utf8').split('\n').find((l) => l.endsWith(' ' + ref));
        return packed ? packed.slice(0, 40) : undefined;
      } catch {
        return undefined;
      }
    }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** dag's own package.json: the nearest one above this file (dag/package.json, from dag/dist/fingerprint/ or, bundled, dag/dist/bundle/). */
function ownPackageJson(): string {
  for (let dir = here; ; dir = dirname(dir)) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) return p;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${here}`);
  }
}
