#!/usr/bin/env node
// Bundles the compiled CLI (dist/dag/cli/main.js and what it imports, node_modules included) into
// dist/cli/: a command then loads a handful of files instead of some 150 modules (about 100 ms of
// every `dag` command on this machine, bench/RESULTS.md). Commands stay separate chunks, loaded
// when named. DuckDB (a native addon) and TypeScript (read by kernels only) stay outside, as does
// the kernel process (dist/dag/exec/kernel-main.js, forked by the pool).
// esbuild-wasm: a WebAssembly build of esbuild, no binary fetched at install time.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild-wasm';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(repo, 'dist', 'cli');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [join(repo, 'dist', 'dag', 'cli', 'main.js')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['@duckdb/node-api', 'typescript'],
  // CommonJS dependencies (yaml, ajv, commander) call require(): give the ES module one
  banner: { js: "import { createRequire as __dagCreateRequire } from 'node:module'; const require = __dagCreateRequire(import.meta.url);" },
  logLevel: 'warning',
  legalComments: 'none',
});
