#!/usr/bin/env node
// The `dag` command: runs the compiled orchestrator (built into dist/ by `npm ci` through `prepare`).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const entry = join(repo, 'dist', 'dag', 'cli', 'main.js');
if (!existsSync(entry)) {
  process.stderr.write(`dag: ${entry} is missing; build it with \`npm run build\` (npm ci does this)\n`);
  process.exit(2);
}
// (a closed pipe, `dag run | head`, is handled in main(): further output is dropped and the command
// goes on to its own end and exit code; a run is never cut short by its reader)
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv);
