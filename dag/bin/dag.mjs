#!/usr/bin/env node
// The `dag` command: runs the compiled orchestrator (dag/dist/, built by `npm run build`; `npm ci`
// in the repository does it through `prepare`, and a packed dag carries it): the bundle in
// dist/bundle/ (tools/bundle.mjs) when it is as new as the compiled files, else those.
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(pkg, 'dist', 'cli', 'main.js');
const bundled = join(pkg, 'dist', 'bundle', 'main.js');
const mtime = (f) => statSync(f, { throwIfNoEntry: false })?.mtimeMs;
const built = mtime(compiled);
if (built === undefined) {
  process.stderr.write(`dag: ${compiled} is missing; build it with \`npm run build\` (npm ci does this)\n`);
  process.exit(2);
}
// a `tsc` run after the last bundle leaves the bundle stale: the compiled files are then the truth
const entry = (mtime(bundled) ?? -Infinity) >= built ? bundled : compiled;
// (a closed pipe, `dag run | head`, is handled in main(): further output is dropped and the command
// goes on to its own end and exit code; a run is never cut short by its reader)
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv);
