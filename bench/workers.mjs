#!/usr/bin/env node
// The bullmq executor on this machine: a private redis-server, N `dag worker` processes, and the
// engine's dev run (the repository's project, default world) locally and on the workers, each
// into an empty runs folder (so every state really runs); then `--seeds` locally (one run after
// another) and on the workers (all at once). Every published file of each workers' run is
// compared with the local run of the same seed, byte for byte (sha256).
// Usage: node bench/workers.mjs [--workers 3] [--jobs 3] [--seeds 42,7,101,202] [--dir /tmp/dag-bench-workers]
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { arg, dagBin, repo } from './cli.mjs';

const nWorkers = Number(arg('--workers', '3'));
const jobs = arg('--jobs', '3');
const seeds = arg('--seeds', '42,7,101,202');
const dir = arg('--dir', '/tmp/dag-bench-workers');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
const url = `redis://127.0.0.1:${port}`;
await new Promise((r) => setTimeout(r, 500));
const env = { ...process.env, DAG_REDIS_URL: url, NO_COLOR: '1' };

const workers = [];
for (let i = 0; i < nWorkers; i++) {
  const w = spawn(process.execPath, [dagBin, 'worker', '--redis', url], { cwd: dir, env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  w.stdout.on('data', (b) => (out += b));
  workers.push({ w, out: () => out });
}
while (!workers.every((x) => / ready: /.test(x.out()))) await new Promise((r) => setTimeout(r, 100));

/** One `dag run` at the repository root into its own runs folder: wall seconds and its --json summary. */
function dagRun(name, args) {
  const runsDir = join(dir, name);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [dagBin, 'run', '--json', ...args], { cwd: repo, env: { ...env, DAG_RUNS_DIR: runsDir }, encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${name}: dag run ${args.join(' ')} exited ${r.status}\n${r.stderr}`);
  const json = JSON.parse(r.stdout);
  return { seconds, runs: json.runs ?? [json] };
}

/** Every published file of a run, with its sha256. */
function bytesOf(runDir) {
  const out = {};
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const abs = join(d, e.name);
      if (e.isDirectory()) walk(abs);
      else out[relative(runDir, abs)] = createHash('sha256').update(readFileSync(abs)).digest('hex');
    }
  };
  walk(join(runDir, 'data'));
  return out;
}

function same(a, b) {
  const ka = Object.keys(a).sort();
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

const results = [];
try {
  const local = dagRun('local', []);
  const onWorkers = dagRun('workers', ['--executor', 'bullmq', '--jobs', jobs]);
  const a = bytesOf(local.runs[0].run_dir);
  const b = bytesOf(onWorkers.runs[0].run_dir);
  results.push({ what: 'dev run, local (--jobs 1)', seconds: local.seconds, ran: local.runs[0].counts.ran });
  results.push({ what: `dev run, ${nWorkers} workers (--jobs ${jobs})`, seconds: onWorkers.seconds, ran: onWorkers.runs[0].counts.ran, identical: same(a, b), files: Object.keys(a).length });

  const seqLocal = dagRun('seeds-local', ['--seeds', seeds]);
  const seqWorkers = dagRun('seeds-workers', ['--executor', 'bullmq', '--jobs', jobs, '--seeds', seeds]);
  const identical = seqLocal.runs.every((r, i) => same(bytesOf(r.run_dir), bytesOf(seqWorkers.runs[i].run_dir)));
  results.push({ what: `--seeds ${seeds}, local, one run after another (--jobs 1)`, seconds: seqLocal.seconds, ran: seqLocal.runs.reduce((n, r) => n + r.counts.ran, 0) });
  results.push({ what: `--seeds ${seeds}, ${nWorkers} workers, runs at once (--jobs ${jobs})`, seconds: seqWorkers.seconds, ran: seqWorkers.runs.reduce((n, r) => n + r.counts.ran, 0), identical });
} finally {
  for (const { w } of workers) w.kill('SIGTERM');
  await Promise.all(workers.map(({ w }) => new Promise((r) => (w.exitCode !== null ? r() : w.once('exit', r)))));
  redis.kill('SIGTERM');
}
for (const r of results) console.log(`${r.what}: ${r.seconds.toFixed(1)} s, ${r.ran} states ran${r.identical === undefined ? '' : `, published bytes identical to the local run: ${r.identical}${r.files ? ` (${r.files} files)` : ''}`}`);
