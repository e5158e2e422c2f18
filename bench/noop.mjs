#!/usr/bin/env node
// The orchestrator's fixed costs on the synthetic pipelines of gen-pipeline.mjs, next to make and
// Snakemake on the same graphs (issue 15): `validate`, `plan` and a no-op `run` (every state
// cached) through the `dag` bin (node dag/bin/dag.mjs) and through `npx dag`; `make` and
// `snakemake -c1` with every target up to date. Each figure is min / median / max of --reps runs,
// interleaved (a, b, c, a, b, c, ...) so a slow moment of the machine hits every tool alike.
// Usage: node bench/noop.mjs [--sizes 100,1000,10000] [--reps 7]
// The pipelines are made (and run cold once) when missing: /tmp/dag-bench-N for dag,
// /tmp/peer-bench-N for make and Snakemake (each rule writes its file from its inputs).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { id, upstreams } from './graph.mjs';
import { arg, dagBin, repo } from './cli.mjs';

const bin = dagBin;
const sizes = arg('--sizes', '100,1000,10000').split(',').map(Number);
const reps = Number(arg('--reps', '7'));
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

function timeOnce(cmd, args, cwd, env = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} in ${cwd} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return ms;
}

/** Makefile and Snakefile of the graph: each target a file written from its inputs. */
function peerProject(n) {
  const dir = `/tmp/peer-bench-${n}`;
  if (existsSync(join(dir, 'done'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'out'), { recursive: true });
  const make = ['all: ' + Array.from({ length: n }, (_, i) => `out/${id(i)}`).join(' '), ''];
  const snake = [`rule all:\n    input: [${Array.from({ length: n }, (_, i) => `"out/${id(i)}"`).join(', ')}]\n`];
  for (let i = 0; i < n; i++) {
    const ups = upstreams(i).map((u) => `out/${id(u)}`);
    make.push(`out/${id(i)}: ${ups.join(' ')}`, `\t@echo ${i} ${ups.length ? '$$(cat $^ | wc -c)' : ''} > $@`, '');
    snake.push(`rule r${id(i)}:\n    input: [${ups.map((u) => `"${u}"`).join(', ')}]\n    output: "out/${id(i)}"\n    shell: "echo ${i} $(cat {input} /dev/null | wc -c) > {output}"\n`);
  }
  writeFileSync(join(dir, 'Makefile'), make.join('\n'));
  writeFileSync(join(dir, 'Snakefile'), snake.join('\n'));
  execFileSync('make', ['-s'], { cwd: dir });
  writeFileSync(join(dir, 'done'), '');
  return dir;
}

function dagProject(n) {
  const dir = `/tmp/dag-bench-${n}`;
  const runs = join(dir, 'runs');
  if (!existsSync(runs) || readdirSync(runs).filter((f) => /^[0-9a-f]{32}$/.test(f)).length === 0) {
    execFileSync(process.execPath, [join(repo, 'bench', 'gen-pipeline.mjs'), String(n), dir]);
    console.error(`N=${n}: cold dag run (once)...`);
    execFileSync(process.execPath, [bin, 'run', '--json'], { cwd: dir, maxBuffer: 1 << 28 });
  }
  // one run folder to start from: the no-op runs add theirs, pruned again at the end
  execFileSync(process.execPath, [bin, 'prune', '--yes'], { cwd: dir });
  return dir;
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
};
const fmt = (x) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`);
const cell = (st) => (st ? `${fmt(st.min)} / **${fmt(st.median)}** / ${fmt(st.max)}` : 'n/a');

const rows = [];
for (const n of sizes) {
  const dagDir = dagProject(n);
  const peerDir = peerProject(n);
  const cases = {
    validate: () => timeOnce(process.execPath, [bin, 'validate'], dagDir),
    plan: () => timeOnce(process.execPath, [bin, 'plan', '--json'], dagDir),
    noop: () => timeOnce(process.execPath, [bin, 'run', '--json'], dagDir),
    // npx from the repository (where the bin is linked), pointed at the bench project
    npxNoop: () => timeOnce('npx', ['--no-install', 'dag', '--root', dagDir, 'run', '--json'], repo),
    make: () => timeOnce('make', ['-s'], peerDir),
    ...(has('snakemake') ? { snakemake: () => timeOnce('snakemake', ['-c1', '--quiet'], peerDir) } : {}),
  };
  const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let r = 0; r < reps; r++) for (const [k, f] of Object.entries(cases)) times[k].push(f());
  execFileSync(process.execPath, [bin, 'prune', '--yes'], { cwd: dagDir });
  const row = { n, ...Object.fromEntries(Object.entries(times).map(([k, xs]) => [k, stats(xs)])) };
  rows.push(row);
  console.error(`N=${n}: ${Object.entries(row).filter(([k]) => k !== 'n').map(([k, st]) => `${k} ${fmt(st.median)}`).join(', ')}`);
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`Recorded ${new Date().toISOString().slice(0, 10)} on ${cpus().length} cores (${cpu}), Node ${process.version}; \`node bench/noop.mjs --sizes ${sizes.join(',')} --reps ${reps}\`. min / **median** / max of ${reps} interleaved runs.\n`);
console.log('| states | `dag validate` | `dag plan` (all cached) | no-op `dag run` (bin) | no-op `npx dag run` | `make` (up to date) | `snakemake -c1` (up to date) |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.n} | ${cell(r.validate)} | ${cell(r.plan)} | ${cell(r.noop)} | ${cell(r.npxNoop)} | ${cell(r.make)} | ${cell(r.snakemake)} |`);
