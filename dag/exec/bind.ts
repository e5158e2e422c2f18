import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, posix, resolve } from 'node:path';
import { canonicalJson } from '../project/canonical.js';
import { streamKey } from '../fingerprint/lineage.js';
import type { CompiledProject } from '../graph/compile.js';
import { fillPath, outputFile, type Task } from '../graph/tasks.js';
import { asciiCompare } from '../store/gate.js';
import { producerKey, type Attempt } from './context.js';
import type { JobOutput, KernelJob } from './job.js';
import { stagedPath } from './publish.js';

/**
 * Binds a task to the job its kernel process runs: variables (ids, seed, stream key, the upstream
 * gates it verified, JSON documents), CSV tables with their contracts, views over the Parquet
 * files upstream tasks of this run published, and where each output is to be written.
 */
export function bindJob(a: Attempt, upstreamGates: Record<string, unknown>): KernelJob {
  const { cp, prep, runDir, done } = a.run;
  const { task, tmp } = a;
  const { lineage } = prep;
  const root = cp.project.root;
  const state = task.state;
  const variables: KernelJob['variables'] = [
    { name: 'state_id', sqlType: 'VARCHAR', value: state.id },
    { name: 'parameter_hash', sqlType: 'VARCHAR', value: lineage.parameterHash },
    { name: 'manifest_fingerprint', sqlType: 'VARCHAR', value: lineage.manifestFingerprint },
    { name: 'stream_key', sqlType: 'UBIGINT', value: streamKey(state.id, task.vars.seed, task.scenario).toString() },
    { name: 'upstream_gates', sqlType: 'JSON', value: canonicalJson(upstreamGates) },
  ];
  if (task.vars.seed !== undefined) variables.push({ name: 'seed', sqlType: 'BIGINT', value: String(task.vars.seed) });
  if (task.scenario !== undefined) variables.push({ name: 'scenario_id', sqlType: 'VARCHAR', value: task.scenario });
  const csvTables: KernelJob['csvTables'] = [];
  const views: KernelJob['views'] = [];
  const manifest: unknown[] = [];
  for (const f of state.fileInputs) {
    const actual = lineage.resolved.get(f.file) ?? f.file;
    const abs = posix.join(root, actual);
    manifest.push({ kind: 'file', name: f.as, path: f.file, read: actual, role: f.role, schema: f.schema ?? null, sha256: lineage.digests.get(f.file) });
    if (/\.csv$/i.test(actual)) {
      const table = f.schema && cp.project.contracts.kindOf(f.schema) === 'table' ? cp.project.contracts.table(f.schema) : undefined;
      csvTables.push({ name: f.as, path: abs, file: actual, schemaRef: f.schema, table });
    } else if (lineage.documents.has(f.file)) variables.push({ name: f.as, sqlType: 'JSON', value: lineage.documents.get(f.file)! });
    else variables.push({ name: f.as, sqlType: 'VARCHAR', value: readFileSync(abs, 'utf8') });
  }
  for (const ds of state.datasetInputs) {
    const producer = cp.states.get(cp.producers.get(ds)!)!;
    const spec = producer.outputs.find((o) => o.dataset === ds)!;
    const published = done.get(producerKey(producer, task))?.outputs?.filter((o) => o.dataset === ds) ?? [];
    if (published.length === 0) throw new Error(`input dataset ${ds} has no published files in this run`);
    published.sort((x, y) => asciiCompare(x.path, y.path)); // a split dataset's files in name order, which is row order
    manifest.push({ kind: 'dataset', name: ds, path: posix.dirname(published[0]!.path), schema: spec.schema, files: published.map((p) => ({ path: p.path, sha256: p.sha256 })) });
    if (spec.format === 'json') {
      variables.push({ name: ds, sqlType: 'JSON', value: readFileSync(join(runDir, published[0]!.path), 'utf8') });
    } else {
      const columns = Object.keys(cp.project.contracts.table(spec.schema).columns);
      views.push({ name: ds, format: spec.format, files: published.map((p) => join(runDir, p.path)), columns });
    }
  }
  variables.push({ name: 'inputs_manifest', sqlType: 'JSON', value: canonicalJson(manifest) });
  const outputs: JobOutput[] = state.outputs.map((o) => ({
    dataset: o.dataset,
    format: o.format,
    table: o.format === 'json' ? undefined : cp.project.contracts.table(o.schema),
    orderBy: o.order_by,
    rowsPerFile: cp.project.config.publish.rows_per_file,
    file: stagedPath(join(tmp, 'out'), task, outputFile(fillPath(o.path, task.vars), o.dataset, o.format)),
  }));
  const d = cp.project.config.duckdb;
  return {
    stateId: state.id,
    kernelFile: posix.join(root, state.kernel),
    kernelKind: state.kernel.endsWith('.ts') ? 'ts' : 'sql',
    preludeFiles: cp.project.config.kernel_prelude.map((f) => posix.join(root, f)),
    duckdb: { threads: d.threads, memory_limit: state.manifest.data.duckdb?.memory_limit ?? d.memory_limit, temp_directory: spillDir(cp, runDir, tmp), ...(d.max_temp_directory_size ? { max_temp_directory_size: d.max_temp_directory_size } : {}), storage: state.manifest.data.duckdb?.storage ?? 'memory' },
    scratchDir: join(tmp, 'scratch'),
    variables,
    csvTables,
    views,
    outputs,
    gate: state.gate !== undefined,
  };
}

/**
 * Where an attempt's DuckDB spills: inside the run's .tmp (removed with it), or a folder of its
 * own under a configured `duckdb.temp_directory` (a disk with more room), so that parallel
 * attempts never share spill files.
 */
export function spillDir(cp: CompiledProject, runDir: string, tmp: string): string {
  const configured = cp.project.config.duckdb.temp_directory;
  return configured ? join(resolve(cp.project.root, configured), `${basename(runDir)}-${basename(tmp)}`) : join(tmp, 'spill');
}

/**
 * With DAG_DUMP_JOBS=<dir>, each kernel job is also written there as JSON
 * (`<state>[.<scenario>].json`), so `node dag/dist/exec/worker.js <job.json>` can replay one
 * state's kernel alone, with its exact inputs and variables, to profile it.
 */
export function dumpJob(job: KernelJob, task: Task): void {
  const dir = process.env.DAG_DUMP_JOBS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${task.state.id}${task.scenario ? `.${task.scenario}` : ''}.json`), JSON.stringify(job, null, 2));
}
