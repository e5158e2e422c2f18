// DAG_DUMP_JOBS writes each kernel job to a folder; `node dag/dist/exec/worker.js <job.json>` replays
// it alone (the profiling path in the README) and writes the same bytes the run published.
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { fileSha256 } from '../../dag/fingerprint/digest.js';
import { dag, REPO, tempDir } from './harness.js';

afterEach(() => {
  delete process.env.DAG_DUMP_JOBS;
});

it('a dumped job replays alone: same steps, same rows, same bytes as the published files', async () => {
  const root = tempDir('replay');
  cpSync(join(REPO, 'test', 'fixtures', 'split'), root, { recursive: true });
  const jobs = tempDir('jobs');
  process.env.DAG_DUMP_JOBS = jobs;
  const r = await dag({ root, runsDir: tempDir('runs') }, ['run', 'sp.S1', '--json']);
  expect(r.code, r.stderr).toBe(0);
  const runDir = (JSON.parse(r.stdout) as { run_dir: string }).run_dir;
  const ledger = readFileSync(join(runDir, 'ledger.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { state?: string; action?: string; steps?: { name: string }[]; outputs?: { dataset: string; path: string; sha256: string; rows: number }[] });
  const ran = ledger.find((e) => e.state === 'sp.S1' && e.action === 'ran')!;

  const job = JSON.parse(readFileSync(join(jobs, 'sp.S1.json'), 'utf8')) as { outputs: { dataset: string; file: string }[]; duckdb: { temp_directory: string } };
  const out = tempDir('replay-out');
  for (const o of job.outputs) o.file = join(out, o.dataset, o.file.split('/').pop()!);
  job.duckdb.temp_directory = join(out, 'spill');
  writeFileSync(join(jobs, 'job.json'), JSON.stringify(job));
  const replay = spawnSync(process.execPath, [join(REPO, 'dag/dist/exec/worker.js'), join(jobs, 'job.json')], { encoding: 'utf8' });
  expect(replay.status, replay.stderr).toBe(0);
  const result = JSON.parse(replay.stdout) as { steps: { name: string }[]; files: { file: string; rows: number }[] };
  expect(result.steps.map((s) => s.name)).toEqual(ran.steps!.map((s) => s.name));

  const published = ran.outputs!;
  expect(result.files.length).toBe(published.length);
  expect(published.length).toBeGreaterThan(2); // events_sp is split into files
  for (const [i, f] of result.files.entries()) {
    expect(f.rows).toBe(published[i]!.rows);
    expect(await fileSha256(f.file)).toBe(published[i]!.sha256);
  }
}, 60_000);
