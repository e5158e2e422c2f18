import { MAX_SEED, SCENARIO_ID } from './names.js';
import { z } from 'zod';

/** The file formats of ORCHESTRATOR.md §2-3, checked with zod: unknown keys are errors. */

const relPath = z.string().min(1).refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), {
  message: 'must be a path inside the project (relative, no "..")',
});

export const stateIdPattern = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const stateId = z.string().regex(stateIdPattern, 'a state id is <segment>.<state>, e.g. 6A.S2');
const datasetId = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a dataset id is a SQL identifier: letters, digits, _');

export const scopes = ['world', 'seed', 'scenario'] as const;
export type Scope = (typeof scopes)[number];
export const triggerKinds = ['kernel', 'inputs', 'files', 'seed'] as const;
export type Trigger = (typeof triggerKinds)[number];

const datasetInput = z.strictObject({ dataset: datasetId });
const fileInput = z.strictObject({
  file: relPath,
  as: datasetId.optional(),
  schema: z.string().min(1).optional(),
  role: z.enum(['parameter', 'reference']).default('parameter'),
  /**
   * JSON pointers of the parts of a YAML/JSON input this state depends on (as DVC's `params`): only
   * those subtrees enter its cache key, so an edit elsewhere in the file reruns nothing.
   */
  keys: z.array(z.string().regex(/^\/.*/, 'a JSON pointer starting with /')).min(1).optional(),
});

export const outputFormats = ['parquet', 'json', 'jsonl'] as const;
const output = z
  .strictObject({
    dataset: datasetId,
    format: z.enum(outputFormats),
    path: relPath,
    schema: z.string().min(1),
    order_by: z.array(z.string().min(1)).min(1).optional(),
  })
  .superRefine((o, ctx) => {
    if (o.format !== 'json' && !o.order_by) {
      ctx.addIssue({ code: 'custom', path: ['order_by'], message: `order_by is required for ${o.format} outputs (it fixes row order, so bytes are stable)` });
    }
  });

/** A view `dag query` defines over a run's datasets (for example a base table with an overlay in place). */
const queryView = z.strictObject({
  name: datasetId,
  description: z.string().optional(),
  sql: z.string().min(1),
});

export const manifestSchema = z.strictObject({
  id: stateId,
  title: z.string().optional(),
  scope: z.enum(scopes).default('seed'),
  kernel: z.string().regex(/\.(sql|ts)$/, 'a kernel is a .sql or .ts file beside the manifest'),
  requires_pass: z.array(z.string().min(1)).default([]),
  inputs: z.array(z.union([datasetInput, fileInput])).default([]),
  outputs: z.array(output).min(1, 'a state must declare at least one output'),
  gate: z.strictObject({ path: relPath, index: z.string().regex(/^[^/]+\.json$/, 'the index is a .json file name') }).optional(),
  rerun: z
    .strictObject({
      scope: z.enum(['downstream', 'self']).default('downstream'),
      triggers: z.array(z.enum(triggerKinds)).min(1).default([...triggerKinds]),
    })
    .default({ scope: 'downstream', triggers: [...triggerKinds] }),
  budget_seconds: z.number().positive().optional(),
  views: z.array(queryView).default([]),
  // where this state's DuckDB keeps its tables: memory (the default), or disk, a database file in its
  // spill folder in DuckDB's compressed storage (some five times smaller than in memory: for a kernel
  // whose tables outgrow memory_limit), and this state's memory_limit in place of dag.yaml's; the
  // outputs are the same bytes either way (neither is part of the cache key)
  duckdb: z
    .strictObject({
      storage: z.enum(['memory', 'disk']).default('memory'),
      memory_limit: z.string().regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/, 'a size like 4GB or 512MiB').optional(),
    })
    .optional(),
});
export type ManifestData = z.infer<typeof manifestSchema>;
export type DatasetInput = z.infer<typeof datasetInput>;
export type FileInput = z.infer<typeof fileInput>;
export type OutputSpec = z.infer<typeof output>;

export const defaultKeepLabels = ['authority', 'candidate', 'last-good', 'witness'];

export const projectSchema = z.strictObject({
  name: z.string().min(1),
  version: z.string().optional(),
  runs_dir: relPath.default('runs'),
  defaults: z
    .strictObject({
      seed: z.number().int().nonnegative().max(MAX_SEED).default(42),
      scenarios: z.array(z.string().regex(SCENARIO_ID, 'a scenario id is a letter or digit followed by letters, digits, _ or - (at most 64)')).min(1).default(['baseline']),
    })
    .default({ seed: 42, scenarios: ['baseline'] }),
  retention: z
    .strictObject({
      keep_labels: z.array(z.string().min(1)).default(defaultKeepLabels),
      keep_last: z.number().int().nonnegative().default(2),
    })
    .default({ keep_labels: defaultKeepLabels, keep_last: 2 }),
  duckdb: z
    .strictObject({
      threads: z.number().int().positive().default(2),
      memory_limit: z.string().regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/, 'a size like 4GB or 512MiB').default('4GB'),
      // inside the project (relative, no ".."), or an absolute path named here explicitly
      temp_directory: z.string().min(1).refine((p) => p.startsWith('/') || !p.split('/').includes('..'), { message: 'must be a folder inside the project (relative, no "..") or an absolute path' }).optional(),
      // the most a kernel's DuckDB may spill (DuckDB's own default: 90 % of the free disk)
      max_temp_directory_size: z.string().regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/, 'a size like 40GB or 512MiB').optional(),
    })
    .default({ threads: 2, memory_limit: '4GB' }),
  publish: z
    .strictObject({
      // a Parquet output of more rows is written as <dataset>-NNNN.parquet files of this many rows
      rows_per_file: z.number().int().positive().default(20_000_000),
    })
    .default({ rows_per_file: 20_000_000 }),
  kernel_prelude: z.array(relPath).default([]),
  // where `dag run --executor bullmq` and `dag worker` find their queue (DAG_REDIS_URL overrides)
  executor: z
    .strictObject({
      bullmq: z.strictObject({
        redis: z.string().regex(/^rediss?:\/\/\S+$/, 'a Redis URL: redis://[user:password@]host[:port][/db] (or rediss://)').optional(),
        queue: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a queue name is letters, digits, _ or - (at most 64)').optional(),
      }),
    })
    .optional(),
  profiles: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'a profile name is letters, digits, _ or -'), z.record(relPath, relPath)).default({}),
});
export type ProjectConfig = z.infer<typeof projectSchema>;
