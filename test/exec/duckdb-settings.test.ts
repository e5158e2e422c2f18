// dag.yaml's duckdb.memory_limit and temp_directory reach the kernel's DuckDB; spills go to the
// run's .tmp by default (removed with it), or to a folder of the attempt's own under a configured
// temp_directory (removed after the attempt); insertion order is not preserved in kernels; a
// kernel that spills past duckdb.max_temp_directory_size fails naming the cap and the remedy.
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dag, REPO, tempDir, type Project } from './harness.js';

const SPLIT = join(REPO, 'test', 'fixtures', 'split');

function withSettingsState(dagYaml?: (text: string) => string): Project {
  const root = tempDir('settings');
  cpSync(SPLIT, root, { recursive: true });
  if (dagYaml) writeFileSync(join(root, 'dag.yaml'), dagYaml(readFileSync(join(root, 'dag.yaml'), 'utf8')));
  writeFileSync(join(root, 'contracts', 'settings.yaml'), 'settings:\n  type: object\n');
  writeFileSync(
    join(root, 'states', 'sp', 'S9_settings.yaml'),
    'id: sp.S9\nkernel: S9_settings.sql\noutputs:\n  - dataset: settings_sp\n    format: json\n    path: reports/sp/settings/seed={seed}\n    schema: contracts/settings.yaml#/settings\n',
  );
  writeFileSync(
    join(root, 'states', 'sp', 'S9_settings.sql'),
    "-- step: read\ncreate table settings_sp as select json_object('memory_limit', current_setting('memory_limit'), 'temp_directory', current_setting('temp_directory'), 'threads', current_setting('threads'), 'preserve_insertion_order', current_setting('preserve_insertion_order')) as doc;\n",
  );
  return { root, runsDir: tempDir('runs') };
}

async function settingsOf(p: Project): Promise<{ runDir: string; s: Record<string, unknown> }> {
  const r = await dag(p, ['run', 'sp.S9', '--json']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const runDir = join(p.runsDir, (JSON.parse(r.stdout) as { run_id: string }).run_id);
  return { runDir, s: JSON.parse(readFileSync(join(runDir, 'reports/sp/settings/seed=42/settings_sp.json'), 'utf8')) };
}

describe('DuckDB settings in kernel processes', () => {
  it('memory_limit and threads from dag.yaml; spills inside the run .tmp, removed after the run', async () => {
    const p = withSettingsState((y) => y.replace('memory_limit: 1GB', 'memory_limit: 768MB'));
    const { runDir, s } = await settingsOf(p);
    expect(s.memory_limit).toBe('732.4 MiB'); // 768 MB as DuckDB prints it
    expect(s.threads).toBe(2);
    expect(s.preserve_insertion_order).toBe(false);
    expect(String(s.temp_directory).startsWith(join(runDir, '.tmp') + '/')).toBe(true);
    expect(existsSync(join(runDir, '.tmp'))).toBe(false);
  }, 60_000);

  it('a configured temp_directory holds a folder per attempt, removed after it', async () => {
    const p = withSettingsState((y) => y.replace('memory_limit: 1GB', 'memory_limit: 1GB\n  temp_directory: scratch/duckdb'));
    const { runDir, s } = await settingsOf(p);
    const base = join(p.root, 'scratch', 'duckdb');
    expect(String(s.temp_directory).startsWith(base + '/')).toBe(true);
    expect(String(s.temp_directory)).toContain(runDir.split('/').pop()!);
    expect(readdirSync(base)).toEqual([]);
  }, 60_000);

  it('a kernel that spills past duckdb.max_temp_directory_size fails cleanly, naming the cap and the remedy; nothing is published', async () => {
    const p = withSettingsState((y) => y.replace('memory_limit: 1GB', 'memory_limit: 100MB\n  max_temp_directory_size: 1MB'));
    // 20 M rows of about 48 bytes: four times the memory limit, so DuckDB must spill
    writeFileSync(join(p.root, 'states', 'sp', 'S9_settings.sql'),
      "-- step: spill\ncreate table big as select range as x, md5(range::VARCHAR) as z from range(20000000);\n-- step: read\ncreate table settings_sp as select json_object('n', (select count(*) from big)) as doc;\n");
    const r = await dag(p, ['run', 'sp.S9']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const said = r.stdout + r.stderr;
    expect(said).toMatch(/step 'spill' at S9_settings\.sql:2/);
    expect(said).toMatch(/This limit was set by the 'max_temp_directory_size' setting/);
    expect(said).toMatch(/duckdb\.max_temp_directory_size 1MB in dag\.yaml; raise it/);
    expect(said).not.toMatch(/\n\s+at /); // no stack trace
    const runs = readdirSync(p.runsDir).filter((d) => !d.startsWith('.'));
    for (const id of runs) expect(existsSync(join(p.runsDir, id, 'reports', 'sp', 'settings'))).toBe(false);
  }, 60_000);

  it('a malformed max_temp_directory_size is refused with exit 2, naming dag.yaml and the value', async () => {
    const p = withSettingsState((y) => y.replace('memory_limit: 1GB', 'memory_limit: 1GB\n  max_temp_directory_size: lots'));
    const r = await dag(p, ['validate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/dag\.yaml/);
    expect(r.stderr).toMatch(/max_temp_directory_size/);
    expect(r.stderr).toMatch(/a size like 40GB or 512MiB/);
  }, 60_000);
});
