#!/usr/bin/env node
// A/B of two builds of dag on the no-op run (issue 15): the same bench pipeline (bench/noop.mjs
// makes /tmp/dag-bench-N) copied once per build, since a build keeps its own manifest snapshot
// (its key is the bundle's size and mtime), then `dag run --quiet` through each build's bin,
// interleaved (a, b, a, b, ...) so a slow moment of the machine hits both alike. Each side is
// pruned and run twice untimed first (the snapshot, the stat cache). Prints every time and
// min / median / max per side, in ms.
// Usage: node bench/ab.mjs --a <checkout> --b <checkout> [--size 1000] [--reps 9]
// (a checkout: a clone with `npm ci` done, or a `git worktree` with node_modules linked and built)
import { cpSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { arg } from './cli.mjs';

const size = Number(arg('--size', '1000'));
const reps = Number(arg('--reps', '9'));
const sides = ['a', 'b'].map((s) => {
  const checkout = arg(`--${s}`, '');
  if (!checkout) throw new Error(`--${s} <checkout> is required`);
  return { name: s, bin: join(resolve(checkout), 'dag', 'bin', 'dag.mjs'), dir: `/tmp/dag-ab-${size}-${s}`, times: [] };
});
const source = `/tmp/dag-bench-${size}`;
if (!existsSync(join(source, 'runs'))) throw new Error(`${source} is missing: run node bench/noop.mjs --sizes ${size} first`);
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS; // a CA bundle read at every node start is no part of dag's cost

const dag = (side, args) => {
  const r = spawnSync(process.execPath, [side.bin, ...args], { cwd: side.dir, env, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${side.bin} ${args.join(' ')} in ${side.dir}: exit ${r.status}\n${r.stderr}`);
};
for (const side of sides) {
  if (!existsSync(side.dir)) cpSync(source, side.dir, { recursive: true, verbatimSymlinks: true });
  dag(side, ['prune', '--yes']);
  dag(side, ['run', '--quiet']);
  dag(side, ['run', '--quiet']);
}
for (let r = 0; r < reps; r++) {
  for (const side of sides) {
    const t0 = process.hrtime.bigint();
    dag(side, ['run', '--quiet']);
    side.times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
}
for (const side of sides) dag(side, ['prune', '--yes']);
for (const side of sides) {
  const v = [...side.times].sort((x, y) => x - y);
  console.log(`${side.name} (${side.bin}): ${side.times.map((t) => t.toFixed(0)).join(' ')}`);
  console.log(`${side.name}: min ${v[0].toFixed(0)} / median ${v[v.length >> 1].toFixed(0)} / max ${v[v.length - 1].toFixed(0)} ms`);
}
