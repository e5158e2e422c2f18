#!/usr/bin/env node
// The floor under a no-op `dag run` (issue 15): the file system work a run folder of cached states
// needs, done by a plain loop with nothing else. For the bench pipeline of N states (made by
// bench/noop.mjs, /tmp/dag-bench-N) it takes the newest run's ledger and, for each state in its
// order, does what dag's no-op does for it: read the cache entry (keys/<key>.json), stat the
// object, make the attempt folder, hard-link the object into it, stat the object again (the link
// moved its ctime), make the published folder's parent, rename the attempt folder into place, and
// append the ledger line. Then `node -e 0` (node's own start) and the same no-op through dag, all
// interleaved. And the directories alone (two per state, as a cached state's restore makes them), made
// by one thread and by two at once: the least any run folder of this layout costs on this disk,
// whatever else a tool does. Prints min / median / max of each, in ms.
// Usage: node bench/noop-floor.mjs [--size 1000] [--reps 7]
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { arg, dagBin } from './cli.mjs';

const n = Number(arg('--size', '1000'));
const reps = Number(arg('--reps', '7'));
const project = `/tmp/dag-bench-${n}`;
const runsDir = join(project, 'runs');
const env = { ...process.env, NODE_EXTRA_CA_CERTS: '' };

const newestRun = () =>
  readdirSync(runsDir)
    .filter((f) => /^[0-9a-f]{32}$/.test(f))
    .map((f) => ({ f, t: statSync(join(runsDir, f)).mtimeMs }))
    .sort((a, b) => b.t - a.t)[0].f;

/** One no-op run folder's file system work, as a plain loop; returns its ms. */
function floorOnce(ledger) {
  const out = join('/tmp', `dag-floor-${n}`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, '.tmp'), { recursive: true });
  const fd = openSync(join(out, 'ledger.jsonl'), 'a');
  const made = new Set([out]);
  const t0 = performance.now();
  for (const e of ledger) {
    const entry = JSON.parse(readFileSync(join(runsDir, '.cache', 'keys', `${e.cache_key}.json`), 'utf8'));
    const folders = [...new Set(e.outputs.map((o) => dirname(o.path)))];
    folders.forEach((folder, i) => {
      const tmp = join(out, '.tmp', `${e.state}.out${i}`);
      mkdirSync(tmp);
      for (const o of e.outputs.filter((x) => dirname(x.path) === folder)) {
        const obj = join(objects, o.sha256);
        statSync(obj);
        linkSync(obj, join(tmp, o.path.slice(folder.length + 1)));
        statSync(obj);
      }
      const final = join(out, folder);
      const parent = dirname(final);
      if (!made.has(parent)) {
        mkdirSync(parent, { recursive: true });
        made.add(parent);
      }
      renameSync(tmp, final);
    });
    writeSync(fd, JSON.stringify({ ...e, ts: new Date().toISOString(), seconds: entry.seconds }) + '\n');
  }
  closeSync(fd);
  const ms = performance.now() - t0;
  rmSync(out, { recursive: true, force: true });
  return ms;
}

// a worker making folders [from, to) below `dir`: per state a folder and one inside it, 64 states a shard
const DIRS = `const { workerData: { dir, from, to }, parentPort } = require('node:worker_threads');
const { mkdirSync } = require('node:fs');
parentPort.once('message', () => {
  for (let i = from; i < to; i++) {
    const shard = dir + '/' + (i >> 6);
    if (i % 64 === 0 || i === from) mkdirSync(shard, { recursive: true });
    mkdirSync(shard + '/t' + i);
    mkdirSync(shard + '/t' + i + '/seed=42');
  }
  parentPort.postMessage('done');
});
parentPort.postMessage('ready');`;

/** The 2 n directories of a no-op run folder made by `threads` threads at once (wall ms). */
async function dirsOnce(threads) {
  const dir = join('/tmp', `dag-floor-dirs-${n}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  const per = Math.ceil(n / threads / 64) * 64;
  const workers = Array.from({ length: threads }, (_, k) => new Worker(DIRS, { eval: true, workerData: { dir, from: k * per, to: Math.min(n, (k + 1) * per) } }));
  await Promise.all(workers.map((w) => new Promise((res) => w.once('message', res)))); // ready
  const t0 = performance.now();
  workers.forEach((w) => w.postMessage('go'));
  await Promise.all(workers.map((w) => new Promise((res) => w.once('message', res))));
  const ms = performance.now() - t0;
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

function timeCmd(cmd, args, cwd) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

spawnSync(process.execPath, [dagBin, 'run', '--json'], { cwd: project, env }); // every state cached from here on
const ledger = readFileSync(join(runsDir, newestRun(), 'ledger.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
if (ledger.length !== n || ledger.some((e) => e.action !== 'cached')) throw new Error(`the newest run of ${project} is not a no-op of ${n} cached states`);

// the loop links copies of the cache's objects, not the objects: a link moves its inode's ctime,
// and dag's stat cache would then rehash every object in the dag run that follows
const objects = join('/tmp', `dag-floor-objects-${n}`);
rmSync(objects, { recursive: true, force: true });
mkdirSync(objects);
for (const e of ledger) for (const o of e.outputs) copyFileSync(join(runsDir, '.cache', 'objects', o.sha256.slice(0, 2), o.sha256), join(objects, o.sha256));
spawnSync(process.execPath, [dagBin, 'run', '--json'], { cwd: project, env }); // the stat cache settles after the first link of each object

const results = { floor: [], dirs1: [], dirs2: [], nodeStart: [], dag: [] };
for (let r = 0; r < reps; r++) {
  results.floor.push(floorOnce(ledger));
  results.dirs1.push(await dirsOnce(1));
  results.dirs2.push(await dirsOnce(2));
  results.nodeStart.push(timeCmd(process.execPath, ['-e', '0'], project));
  results.dag.push(timeCmd(process.execPath, [dagBin, 'run', '--json'], project));
}
spawnSync(process.execPath, [dagBin, 'prune', '--yes'], { cwd: project, env });
rmSync(objects, { recursive: true, force: true });

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[0].toFixed(0)} / **${s[Math.floor(s.length / 2)].toFixed(0)}** / ${s[s.length - 1].toFixed(0)} ms`;
};
console.log(`Recorded ${new Date().toISOString().slice(0, 10)} on ${cpus().length} cores (${cpus()[0].model.trim()}), Node ${process.version}; \`node bench/noop-floor.mjs --size ${n} --reps ${reps}\`; min / **median** / max.\n`);
console.log('| what | time |');
console.log('|---|---|');
console.log(`| a no-op run folder's file system work for ${n} cached states, in one plain loop | ${stats(results.floor)} |`);
console.log(`| its ${2 * n} directories alone, one thread | ${stats(results.dirs1)} |`);
console.log(`| its ${2 * n} directories alone, two threads at once | ${stats(results.dirs2)} |`);
console.log(`| node's own start (\`node -e 0\`) | ${stats(results.nodeStart)} |`);
console.log(`| no-op \`dag run\` (bin) | ${stats(results.dag)} |`);
