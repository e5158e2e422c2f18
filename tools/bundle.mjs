#!/usr/bin/env node
// Bundles the compiled CLI (dag/dist/cli/main.js and what it imports, node_modules included) into
// dag/dist/bundle/: a command then loads a handful of files instead of some 150 modules (about 100 ms of
// every `dag` command on this machine, bench/RESULTS.md). Commands stay separate chunks, loaded
// when named. DuckDB (a native addon) and TypeScript (read by kernels only) stay outside, as does
// the kernel process (dag/dist/exec/kernel-main.js, forked by the pool), and BullMQ with its Redis
// client (loaded only by `--executor bullmq` and `dag worker`, from node_modules as published).
// esbuild-wasm: a WebAssembly build of esbuild, no binary fetched at install time.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild-wasm';

/**
 * zod's `z.locales` re-exports the messages of some 50 languages (600 kB of the bundle, parsed on
 * every command); dag's messages are its own, in English: the namespace keeps only `en`, which is
 * zod's default anyway.
 */
const englishOnlyZod = {
  name: 'english-only-zod',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (a) => (/[\\/]zod[\\/]v4[\\/]/.test(a.importer) ? { path: 'zod-locales-en', namespace: 'dag' } : undefined));
    b.onLoad({ filter: /^zod-locales-en$/, namespace: 'dag' }, () => ({ contents: `export { default as en } from ${JSON.stringify(join(repo, 'node_modules', 'zod', 'v4', 'locales', 'en.js'))};`, loader: 'js', resolveDir: repo }));
  },
};

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(repo, 'dag', 'dist', 'bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [join(repo, 'dag', 'dist', 'cli', 'main.js')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['@duckdb/node-api', 'typescript', 'bullmq', 'ioredis'],
  // CommonJS dependencies (yaml, ajv, commander) call require(): give the ES module one
  banner: { js: "import { createRequire as __dagCreateRequire } from 'node:module'; const require = __dagCreateRequire(import.meta.url);" },
  logLevel: 'warning',
  plugins: [englishOnlyZod],
  legalComments: 'none',
  // less to parse on every command; identifiers kept, so a --verbose stack trace still names functions
  minifyWhitespace: true,
  minifySyntax: true,
});
