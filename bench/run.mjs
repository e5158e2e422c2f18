#!/usr/bin/env node
// Benchmarks dag on synthetic pipelines and prints a section for bench/RESULTS.md.
// Usage: node bench/run.mjs [--sizes 100,1000] [--big-mb 3072] [--out FILE]
import { execFileSync, spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { arg, dagBin, repo } from './cli.mjs';

const sizes = arg('--sizes', '100,1000').split(',').map(Number);
const bigMb = Number(arg('--big-mb', '3072'));
// its own section only: bench/RESULTS.md holds other benchmarks' sections too
const outFile = arg('--out', '/dev/stdout');

function dag(root, runsDir, args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [dagBin, '--root', root, ...args], { env: { ...process.env, DAG_RUNS_DIR: runsDir }, encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`dag ${args.join(' ')} exited ${r.status}: ${r.stderr}\n${r.stdout.slice(-2000)}`);
  return { seconds, stdout: r.stdout };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function timed(root, runsDir, args, reps = 3) {
  const xs = [];
  let last;
  for (let i = 0; i < reps; i++) {
    last = dag(root, runsDir, args);
    xs.push(last.seconds);
  }
  return { seconds: median(xs), all: xs, stdout: last.stdout };
}
const fmt = (s) => `${s.toFixed(2)} s`;
const gen = (n, dir, extra = []) => execFileSync(process.execPath, [join(repo, 'bench', 'gen-pipeline.mjs'), String(n), dir, ...extra]);

const rows = [];
for (const n of sizes) {
  const root = `/tmp/dag-bench-${n}`;
  const runs = join(root, 'runs');
  gen(n, root);
  const validate = timed(root, runs, ['validate']);
  const planCold = timed(root, runs, ['plan', '--json']);
  const cold = timed(root, runs, ['run', '--json'], 1);
  const summary = JSON.parse(cold.stdout);
  const noop = timed(root, runs, ['run', '--json']);
  const noopSummary = JSON.parse(noop.stdout);
  const planWarm = timed(root, runs, ['plan', '--json']);
  rows.push({ n, validate, planCold, cold, ran: summary.counts.ran, noop, cached: noopSummary.counts.cached, planWarm });
  console.log(`N=${n}: validate ${fmt(validate.seconds)}, plan ${fmt(planCold.seconds)}, cold run ${fmt(cold.seconds)} (${summary.counts.ran} ran), no-op run ${fmt(noop.seconds)} (${noopSummary.counts.cached} cached), warm plan ${fmt(planWarm.seconds)}`);
}

let big;
if (bigMb > 0) {
  const root = '/tmp/dag-bench-big';
  const runs = join(root, 'runs');
  // --reuse-big: keep a base run made earlier (making several GB takes minutes)
  let base;
  let baseId;
  const earlier = process.argv.includes('--reuse-big') && existsSync(join(runs, 'labels.json')) ? JSON.parse(readFileSync(join(runs, 'labels.json'), 'utf8'))['bench-base']?.[0] : undefined;
  if (earlier) {
    baseId = earlier;
    base = { seconds: NaN, all: [] };
  } else {
    gen(4, root, ['--big-mb', String(bigMb)]);
    base = timed(root, runs, ['run', '--json', '--label', 'bench-base'], 1);
    baseId = JSON.parse(base.stdout).run_id;
  }
  const du = execFileSync('du', ['-sb', join(runs, baseId)]).toString().split('\t')[0];
  // the first --from after the base was made, then later ones: each with its ledger's staging
  // seconds and the bytes it had to rehash (0 when every digest came from the stat cache)
  const staging = () => {
    const r = dag(root, runs, ['run', '--from', 'b.s0001', '--base', baseId, '--json']);
    const summary = JSON.parse(r.stdout);
    const entries = readFileSync(join(summary.run_dir, 'ledger.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.action === 'staged');
    return { seconds: r.seconds, staged: summary.counts.staged, ran: summary.counts.ran, stageSeconds: entries.reduce((a, e) => a + e.seconds, 0), hashed: entries.reduce((a, e) => a + (e.hashed_bytes ?? NaN), 0) };
  };
  const first = staging();
  const later = [staging(), staging(), staging()];
  big = { bytes: Number(du), base, first, later, reused: Boolean(earlier) };
  console.log(`staging from a ${(Number(du) / 2 ** 30).toFixed(2)} GiB base run: first ${fmt(first.seconds)} (staging ${fmt(first.stageSeconds)}, ${first.hashed} bytes rehashed), later ${later.map((x) => fmt(x.seconds)).join(', ')}`);
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const machine = `${cpus().length} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, DuckDB ${JSON.parse(readFileSync(join(repo, 'node_modules', '@duckdb', 'node-api', 'package.json'), 'utf8')).version}`;
const lines = [
  '# Benchmarks',
  '',
  `Recorded ${new Date().toISOString().slice(0, 10)} on ${machine}.`,
  '',
  'Command: `node bench/run.mjs` (pipelines from `bench/gen-pipeline.mjs`: a chain, hubs fanning out to 9 states, a fan-in of 5 every 25 states; each state a small SQL kernel writing 100 rows). Times are wall-clock for the whole `dag` process (`node dag/bin/dag.mjs`, without npx), median of 3 unless marked; cold runs once.',
  '',
  '| states | `dag validate` | `dag plan` (no runs yet) | cold `dag run` | no-op `dag run` (all cached) | `dag plan` (all cached) |',
  '|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.n} | ${fmt(r.validate.seconds)} | ${fmt(r.planCold.seconds)} | ${fmt(r.cold.seconds)} (${r.ran} ran, once) | ${fmt(r.noop.seconds)} (${r.cached} cached) | ${fmt(r.planWarm.seconds)} |`),
  '',
];
if (big) {
  const mm = (xs) => {
    const v = [...xs].sort((x, y) => x - y);
    return `${fmt(v[0])} / **${fmt(v[Math.floor(v.length / 2)])}** / ${fmt(v[v.length - 1])}`;
  };
  lines.push(
    `Staging: a 4-state pipeline whose first state writes ${(big.bytes / 2 ** 30).toFixed(2)} GiB of Parquet (md5 strings, incompressible)${big.reused ? ' (base run made earlier, --reuse-big: its first staging was before this benchmark)' : `; base run ${fmt(big.base.seconds)} (once, every state ran)`}. ` +
      `\`dag run --from b.s0001 --base <base>\` stages ${big.first.staged} state by hard link after its digests verify and runs ${big.first.ran}.`,
    '',
    '| staging | whole command | staging itself (ledger) | bytes rehashed |',
    '|---|---|---|---|',
    `| first after the base run | ${fmt(big.first.seconds)} | ${fmt(big.first.stageSeconds)} | ${big.first.hashed} |`,
    `| the next three (min / median / max) | ${mm(big.later.map((x) => x.seconds))} | ${mm(big.later.map((x) => x.stageSeconds))} | ${big.later.map((x) => x.hashed).join(', ')} |`,
    '',
  );
}
writeFileSync(outFile, lines.join('\n'));
console.log(`wrote ${outFile}`);
