import type { DuckDBConnection } from '@duckdb/node-api';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KernelError, type KernelJob, type KernelResult, type WorkerMessage } from './job.js';

/** The context a TypeScript kernel receives (ORCHESTRATOR.md §5). */
export interface TsKernelContext {
  con: DuckDBConnection;
  stateId: string;
  variables: Record<string, unknown>;
  log: (message: string) => void;
  progress: (fraction: number, message?: string) => void;
  step: <T>(name: string, body: () => Promise<T>) => Promise<T>;
}

/** Runs a TypeScript kernel: transpiled (its syntax errors with line and column), imported, called with a TsKernelContext. */
export async function runTsKernel(con: DuckDBConnection, job: KernelJob, steps: KernelResult['steps'], onStep: (s: string) => void, send: (m: WorkerMessage) => void): Promise<void> {
  const ts = await import('typescript');
  const source = readFileSync(job.kernelFile, 'utf8');
  const out = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }, fileName: job.kernelFile, reportDiagnostics: true });
  const syntax = (out.diagnostics ?? []).find((d) => d.category === ts.DiagnosticCategory.Error);
  if (syntax) {
    const at = syntax.file && syntax.start !== undefined ? syntax.file.getLineAndCharacterOfPosition(syntax.start) : undefined;
    const where = at ? `${job.kernelFile.split('/').pop()}:${at.line + 1}:${at.character + 1}` : job.kernelFile.split('/').pop();
    throw new KernelError({ message: `TypeScript syntax error at ${where}: ${ts.flattenDiagnosticMessageText(syntax.messageText, ' ')}`, step: 'compile', rule: 'ts-syntax' });
  }
  const js = out.outputText;
  mkdirSync(job.scratchDir, { recursive: true });
  const file = join(job.scratchDir, 'kernel.mjs');
  writeFileSync(file, js);
  const mod = (await import(pathToFileURL(file).href)) as { default?: (ctx: TsKernelContext) => Promise<void>; run?: (ctx: TsKernelContext) => Promise<void> };
  const fn = mod.default ?? mod.run;
  if (typeof fn !== 'function') throw new KernelError({ message: `TypeScript kernel ${job.kernelFile} must export a default function (or 'run')`, rule: 'ts-kernel' });
  const variables: Record<string, unknown> = {};
  for (const v of job.variables) variables[v.name] = v.sqlType === 'JSON' ? JSON.parse(v.value) : v.sqlType === 'VARCHAR' ? v.value : BigInt(v.value);
  let index = 0;
  const ctx: TsKernelContext = {
    con,
    stateId: job.stateId,
    variables,
    log: (message) => send({ type: 'log', level: 'info', message }),
    progress: (fraction, message) => send({ type: 'progress', fraction, message }),
    step: async (name, body) => {
      onStep(name);
      send({ type: 'step', name, index: index++, count: 0 });
      const t0 = performance.now();
      const r = await body();
      steps.push({ name, seconds: (performance.now() - t0) / 1000 });
      return r;
    },
  };
  try {
    await fn(ctx);
  } catch (e) {
    if (e instanceof KernelError) throw e;
    const err = e as NodeJS.ErrnoException & { resource?: string; permission?: string };
    if (err.code === 'ERR_ACCESS_DENIED') {
      throw new KernelError({ message: `TypeScript kernel failed: ${err.message} (ERR_ACCESS_DENIED: ${err.permission ?? 'file access'}${err.resource ? ` of ${err.resource}` : ''}; the kernel sandbox: a TypeScript kernel writes only beneath its build folder, and reads and writes its data through ctx.con)`, rule: 'sandbox' });
    }
    throw new KernelError({ message: `TypeScript kernel failed: ${err.message}` });
  }
}
