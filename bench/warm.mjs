#!/usr/bin/env node
// What a resident process would buy (issue 15): calls the CLI's main() --calls times in one
// process, in the current folder, and prints each call's wall time. The first call pays the cold
// JIT and the project's first compile like a fresh `dag` process (minus node's start and the
// bundle's load); the later ones show a warm process's cost for the same command.
// Usage (in a project, e.g. /tmp/dag-bench-1000): node <repo>/bench/warm.mjs [--calls 6] -- run --quiet
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { arg, repo } from './cli.mjs';

const calls = Number(arg('--calls', '6'));
const cut = process.argv.indexOf('--');
const command = cut > 0 ? process.argv.slice(cut + 1) : ['plan'];
const { main } = await import(pathToFileURL(join(repo, 'dag', 'dist', 'bundle', 'main.js')).href);
const times = [];
for (let i = 0; i < calls; i++) {
  const t0 = performance.now();
  const rc = await main(['node', 'dag', ...command]);
  times.push(performance.now() - t0);
  if (rc !== 0) throw new Error(`dag ${command.join(' ')} exited ${rc} on call ${i + 1}`);
}
process.stderr.write(`dag ${command.join(' ')}, ${calls} calls in one process: ${times.map((t) => t.toFixed(0)).join(' / ')} ms\n`);
