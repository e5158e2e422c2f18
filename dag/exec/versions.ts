import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
let cached: { dag: string; duckdb: string } | undefined;
const gitByRoot = new Map<string, string | null>();

/** Versions that go into receipts and cache keys. */
export function versions(root: string, projectVersion?: string): { engine: string | null; dag: string; git: string | null; duckdb: string } {
  if (!cached) {
    const require = createRequire(import.meta.url);
    const duckdbPkg = JSON.parse(readFileSync(require.resolve('@duckdb/node-api/package.json'), 'utf8')) as { version: string };
    const dagPkg = JSON.parse(readFileSync(join(here, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
    cached = { dag: dagPkg.version, duckdb: duckdbPkg.version };
  }
  let engine: string | null = projectVersion ?? null;
  if (engine === null) try {
    engine = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? null;
  } catch {
    /* a project without package.json */
  }
  let git = gitByRoot.get(root) ?? null;
  if (!gitByRoot.has(root)) try {
    git = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    /* not a git checkout */
  }
  gitByRoot.set(root, git);
  return { engine, dag: cached.dag, git, duckdb: cached.duckdb };
}
