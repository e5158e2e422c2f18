import type { TableSchema } from '../contracts/table.js';

/** What the orchestrator hands a kernel process: everything resolved, nothing to look up. */
export interface KernelJob {
  stateId: string;
  kernelFile: string;
  kernelKind: 'sql' | 'ts';
  preludeFiles: string[];
  duckdb: { threads: number; memory_limit: string; temp_directory: string; max_temp_directory_size?: string; storage?: 'memory' | 'disk' };
  /** Scratch folder for this attempt (transpiled TS kernel, etc.). */
  scratchDir: string;
  variables: { name: string; sqlType: 'JSON' | 'UBIGINT' | 'BIGINT' | 'VARCHAR'; value: string }[];
  /** CSV inputs; with a table schema they are typed by it and checked before the kernel runs. */
  csvTables: { name: string; path: string; file: string; schemaRef?: string; table?: TableSchema }[];
  views: { name: string; format: 'parquet' | 'jsonl'; files: string[]; columns: string[] }[];
  outputs: JobOutput[];
  gate: boolean;
}

export interface JobOutput {
  dataset: string;
  format: 'parquet' | 'json' | 'jsonl';
  /** The table schema (parquet, jsonl); JSON outputs are validated by the orchestrator. */
  table?: TableSchema;
  orderBy?: string[];
  /** Absolute path the file is written to (parquet, jsonl); unused for json. A Parquet output of
   * more than `rowsPerFile` rows is written beside it as `<dataset>-NNNN.parquet` instead. */
  file: string;
  rowsPerFile: number;
}

export interface WrittenFile {
  dataset: string;
  file: string;
  rows: number;
  sha256: string;
  bytes: number;
}

export interface KernelResult {
  steps: { name: string; seconds: number }[];
  /** Every file written, an output's files in name order (which is row order). */
  files: WrittenFile[];
  /** dataset -> the JSON text of its `doc` (json outputs). */
  docs: Record<string, string>;
  /** The kernel's `gate_verdict.passed` (gate states only). */
  gatePassed?: boolean;
}

/** Why a kernel failed, precisely enough to fix it. */
export interface KernelFailure {
  message: string;
  step?: string;
  output?: string;
  column?: string;
  rule?: string;
  sample?: Record<string, unknown>[];
}

/** How a kernel job ended: its result, its failure, or interrupted (the run is stopping; nothing to record). */
export type KernelAnswer = { result: KernelResult } | { failure: KernelFailure } | 'interrupted';

export type WorkerMessage =
  | { type: 'step'; name: string; index: number; count: number }
  | { type: 'progress'; fraction?: number; message?: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'done'; result: KernelResult }
  | { type: 'failed'; failure: KernelFailure };

/** A kernel's failure as thrown inside the kernel process, carried back to the orchestrator as its KernelFailure. */
export class KernelError extends Error {
  constructor(readonly failure: KernelFailure) {
    super(failure.message);
  }
}
