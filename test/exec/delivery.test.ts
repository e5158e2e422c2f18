// A queued job's delivery (exec/delivery.ts): a worker's job moved beneath its own folder, and a
// worker's answer taken only when every file it names is inside that folder's output folders with
// the size and sha256 it claims.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acceptDelivery, deliveryDir, relocateJob, versionMismatch, type DeliveryAnswer, type QueuedKernel } from '../../dag/exec/delivery.js';
import type { KernelJob } from '../../dag/exec/job.js';
import { tempDir } from './harness.js';

const sha = (b: string) => createHash('sha256').update(b).digest('hex');

/** An attempt folder with one delivery that wrote `bytes` as its one output file. */
function delivered(bytes = 'rows\n'): { attempt: string; answer: DeliveryAnswer } {
  const attempt = join(tempDir('attempt'), '.tmp', 'fx.S1');
  const delivery = deliveryDir(attempt, 'host:1-abcd');
  const file = join(delivery, 'out.out0', 'customers_fx.parquet');
  mkdirSync(join(delivery, 'out.out0'), { recursive: true });
  writeFileSync(file, bytes);
  return { attempt, answer: { token: 't', worker: 'host:1', delivery, answer: { result: { steps: [], docs: {}, files: [{ dataset: 'customers_fx', file, rows: 1, sha256: sha(bytes), bytes: bytes.length }] } } } };
}

describe('relocateJob', () => {
  it('moves output, scratch and spill paths beneath the delivery folder, and leaves inputs where they are', () => {
    const job = { scratchDir: '/r/.tmp/a/scratch', duckdb: { temp_directory: '/r/.tmp/a/spill' }, outputs: [{ file: '/r/.tmp/a/out.out0/x.parquet' }], views: [{ files: ['/r/data/y.parquet'] }], kernelFile: '/p/k.sql' } as unknown as KernelJob;
    const moved = relocateJob(job, '/r/.tmp/a', '/r/.tmp/a/w-h_1');
    expect(moved.scratchDir).toBe('/r/.tmp/a/w-h_1/scratch');
    expect(moved.duckdb.temp_directory).toBe('/r/.tmp/a/w-h_1/spill');
    expect(moved.outputs[0]!.file).toBe('/r/.tmp/a/w-h_1/out.out0/x.parquet');
    expect(moved.views[0]!.files).toEqual(['/r/data/y.parquet']);
    expect(moved.kernelFile).toBe('/p/k.sql');
    // a configured spill folder elsewhere gets a sibling of its own per delivery
    const spillElsewhere = relocateJob({ ...job, duckdb: { temp_directory: '/big/run-a' } } as KernelJob, '/r/.tmp/a', '/r/.tmp/a/w-h_1');
    expect(spillElsewhere.duckdb.temp_directory).toBe('/big/run-a-w-h_1');
  });
});

describe('acceptDelivery', () => {
  it('takes a verified answer: the delivery\'s output folder becomes the attempt\'s, and the result names it there', async () => {
    const { attempt, answer } = delivered();
    const r = await acceptDelivery(answer, attempt);
    expect('result' in r).toBe(true);
    const f = (r as { result: { files: { file: string }[] } }).result.files[0]!.file;
    expect(f).toBe(join(attempt, 'out.out0', 'customers_fx.parquet'));
    expect(readFileSync(f, 'utf8')).toBe('rows\n');
    expect(existsSync(answer.delivery)).toBe(false);
  });

  it('refuses a file whose bytes are not the ones the answer claims', async () => {
    const { attempt, answer } = delivered();
    const file = (answer.answer as { result: { files: { file: string }[] } }).result.files[0]!.file;
    chmodSync(file, 0o644);
    writeFileSync(file, 'ROWS\n'); // same size, other bytes
    const r = await acceptDelivery(answer, attempt);
    expect(r).toMatchObject({ failure: { rule: 'delivery' } });
    expect((r as { failure: { message: string } }).failure.message).toMatch(/hashes to [0-9a-f]{12}, the answer says [0-9a-f]{12}/);
    expect(existsSync(join(attempt, 'out.out0'))).toBe(false); // nothing moved into the attempt
  });

  it('refuses a missing file, a wrong size, and a file outside the delivery\'s output folders', async () => {
    const a = delivered();
    const files = (a.answer.answer as { result: { files: { file: string; bytes: number }[] } }).result.files;
    files[0]!.bytes = 99;
    expect(await acceptDelivery(a.answer, a.attempt)).toMatchObject({ failure: { message: expect.stringContaining('has 5 bytes, the answer says 99') } });
    files[0]!.file = join(a.answer.delivery, 'out.out0', 'gone.parquet');
    expect(await acceptDelivery(a.answer, a.attempt)).toMatchObject({ failure: { message: expect.stringContaining('is missing') } });
    files[0]!.file = join(a.attempt, '..', 'elsewhere.parquet');
    expect(await acceptDelivery(a.answer, a.attempt)).toMatchObject({ failure: { message: expect.stringContaining('outside its output folders') } });
    expect(await acceptDelivery({ ...a.answer, delivery: join(a.attempt, '..') }, a.attempt)).toMatchObject({ failure: { message: expect.stringContaining('is not a delivery folder') } });
  });

  it('passes a kernel\'s failure on as it is', async () => {
    const { attempt, answer } = delivered();
    expect(await acceptDelivery({ ...answer, answer: { failure: { message: 'SQL error', step: 'draw' } } }, attempt)).toEqual({ failure: { message: 'SQL error', step: 'draw' } });
  });
});

describe('versionMismatch', () => {
  it('refuses a worker whose dag or DuckDB is not the coordinator\'s, naming both', () => {
    const q = { versions: { dag: '0.1.0', duckdb: '1.5.6' } } as QueuedKernel;
    expect(versionMismatch(q, { dag: '0.1.0', duckdb: '1.5.6' })).toBeUndefined();
    expect(versionMismatch(q, { dag: '0.1.0', duckdb: '1.4.0' })).toMatch(/DuckDB 1\.4\.0, the run dag 0\.1\.0 with DuckDB 1\.5\.6/);
  });
});
