import { chmodSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { canonicalJson } from '../project/canonical.js';
import { fileSha256 } from '../fingerprint/digest.js';
import { fillPath, outputFile } from '../graph/tasks.js';
import { FLAG, sealBundle, verifyBundle } from '../store/gate.js';
import type { LedgerEntry } from '../store/runs.js';
import { bindJob, dumpJob, spillDir } from './bind.js';
import { producerKey, type Attempt, type Outcome, type Staged } from './context.js';
import type { KernelFailure, KernelJob, KernelResult } from './job.js';
import { failAttempt, publish, stagedPath } from './publish.js';

/** Runs the task's kernel: verify the required gates, bind and spawn the job, check and collect its outputs, seal, publish. */
export async function runKernel(a: Attempt): Promise<Outcome> {
  const { cp, bus, runDir, timings } = a.run;
  const { task, tmp } = a;
  const state = task.state;
  rmSync(tmp, { recursive: true, force: true });
  const spill = spillDir(cp, runDir, tmp);
  mkdirSync(spill, { recursive: true });
  bus.emit({ type: 'task-start', task: task.key, state: state.id, scenario: task.scenario, estimateSeconds: timings?.get(state.id) });
  const fail = (failure: KernelFailure, steps?: KernelResult['steps']) => failAttempt(a, failure, steps);

  const upstreamGates = await verifyRequiredGates(a);
  if ('failure' in upstreamGates) return fail(upstreamGates.failure);
  let job: KernelJob;
  try {
    job = bindJob(a, upstreamGates.gates);
    dumpJob(job, task);
  } catch (e) {
    return fail({ message: (e as Error).message, step: 'inputs' });
  }
  // made here, not by the kernel: under the permission model a kernel may write beneath .tmp but
  // not create .tmp itself
  mkdirSync(tmp, { recursive: true });
  const at = { id: a.key ?? `${basename(runDir)}.${task.key}`, attempt: tmp, runId: basename(runDir) };
  const answer = await a.run.pool.run(job, (m) => {
    if (m.type === 'step') bus.emit({ type: 'task-step', task: task.key, step: m.name, index: m.index, count: m.count });
    else if (m.type === 'progress') bus.emit({ type: 'task-progress', task: task.key, fraction: m.fraction, message: m.message });
    else if (m.type === 'log') bus.emit({ type: 'task-log', task: task.key, level: m.level, message: m.message });
  }, at);
  if (!spill.startsWith(tmp + '/')) rmSync(spill, { recursive: true, force: true }); // a configured temp_directory: this attempt's own folder in it
  if (answer === 'interrupted') {
    rmSync(tmp, { recursive: true, force: true });
    return 'interrupted';
  }
  if ('failure' in answer) return fail(answer.failure);
  const kernel = answer.result;

  const outDir = join(tmp, 'out'); // folders are built at `${outDir}.out<i>`
  const files = collectOutputs(a, kernel, outDir);
  if ('failure' in files) return fail(files.failure, kernel.steps);
  let gate: LedgerEntry['gate'];
  if (state.gate) {
    // a gate state seals its bundle: the index always, the flag only on a passing verdict
    const bundleRel = fillPath(state.gate.path, task.vars);
    const bundleAbs = dirname(stagedPath(outDir, task, `${bundleRel}/${state.gate.index}`));
    const sealed = await sealBundle(bundleAbs, state.gate.index, kernel.gatePassed === true);
    for (const name of sealed.files) files.push({ dataset: name === FLAG ? '(gate flag)' : '(gate index)', template: state.gate.path, rel: `${bundleRel}/${name}`, abs: join(bundleAbs, name) });
    gate = { segment: state.segment, path: bundleRel, passed: kernel.gatePassed === true, digest: sealed.digest };
  }
  for (const f of files) {
    if (f.sha256 === undefined) {
      f.sha256 = await fileSha256(f.abs);
      f.bytes = statSync(f.abs).size;
    }
    chmodSync(f.abs, 0o444); // a published file may share its inode with the cache: never written again
  }
  if (a.run.aborted()) {
    rmSync(tmp, { recursive: true, force: true });
    return 'interrupted';
  }
  const outcome = publish(a, 'ran', files, { steps: kernel.steps, gate }, outDir, true);
  for (const f of files) a.run.prep.cache.stat.remember(join(runDir, f.rel), f.sha256!);
  return outcome;
}

/** Each segment the state requires must have a sealed, verified bundle in this run: what the kernel is told of them. */
async function verifyRequiredGates(a: Attempt): Promise<{ gates: Record<string, unknown> } | { failure: KernelFailure }> {
  const { cp, done, runDir, prep } = a.run;
  const { task } = a;
  const gates: Record<string, unknown> = {};
  for (const seg of task.state.requiresPass) {
    const gateState = cp.states.get(cp.gates.get(seg)!)!;
    const gateEntry = done.get(producerKey(gateState, task));
    const bundleRel = gateEntry?.gate?.path ?? fillPath(gateState.gate!.path, { ...task.vars, seed: gateState.scope === 'world' ? undefined : prep.seed });
    const check = await verifyBundle(join(runDir, bundleRel), gateState.gate!.index);
    if (!check.ok) return { failure: { message: `required segment ${seg} is not sealed: ${check.problem}`, rule: 'requires_pass' } };
    gates[seg] = { gate_state: gateState.id, bundle_path: bundleRel, flag_digest: check.digest, files: check.files };
  }
  return { gates };
}

/** The kernel's outputs as files to publish: JSON documents checked against their contract and written canonically, table files as written. */
function collectOutputs(a: Attempt, kernel: KernelResult, outDir: string): Staged[] | { failure: KernelFailure } {
  const { task } = a;
  const files: Staged[] = [];
  for (const o of task.state.outputs) {
    const rel = outputFile(fillPath(o.path, task.vars), o.dataset, o.format);
    if (o.format !== 'json') {
      // one file, or `<dataset>-NNNN.parquet` in name order when the output was split
      for (const w of kernel.files.filter((f) => f.dataset === o.dataset)) {
        files.push({ dataset: o.dataset, template: o.path, rel: `${posix.dirname(rel)}/${basename(w.file)}`, abs: w.file, rows: w.rows, sha256: w.sha256, bytes: w.bytes });
      }
      continue;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(kernel.docs[o.dataset]!);
    } catch (e) {
      return { failure: { message: `output ${o.dataset}: doc is not valid JSON: ${(e as Error).message}`, output: o.dataset, rule: 'json' } };
    }
    const validate = a.run.cp.project.contracts.validator(o.schema);
    let valid: boolean;
    try {
      valid = validate(doc) as boolean;
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      return { failure: { message: `output ${o.dataset}: its contract ${o.schema} applies itself without descending into the data (a $ref cycle through allOf, anyOf, oneOf, not or if)`, output: o.dataset, rule: 'schema-ref' } };
    }
    if (!valid) {
      const errs = (validate.errors ?? []).slice(0, 5).map((x) => `${x.instancePath || '/'} ${x.message}`).join('; ');
      return { failure: { message: `output ${o.dataset} breaks its contract ${o.schema}: ${errs}`, output: o.dataset, rule: 'json-schema' } };
    }
    const abs = stagedPath(outDir, task, rel);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, JSON.stringify(JSON.parse(canonicalJson(doc)), null, 2) + '\n');
    files.push({ dataset: o.dataset, template: o.path, rel, abs });
  }
  return files;
}
