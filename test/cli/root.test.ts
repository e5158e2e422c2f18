import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TempCopies } from '../fixtures/materialize.js';
import { CLI_TIMEOUT, runDag, STACK_LINE } from './runDag.js';

// outer/ is the diamond; outer/vendor/inner/ is a second, smaller project nested inside it.
const temp = new TempCopies();
const outer = temp.copy();
const inner = join(outer, 'vendor', 'inner');
mkdirSync(join(outer, 'states', 'fx', 'deep'), { recursive: true });
mkdirSync(join(inner, 'states', 'gy'), { recursive: true });
writeFileSync(join(inner, 'dag.yaml'), 'name: inner\n');
writeFileSync(join(inner, 'states/gy/S0_one.sql'), 'create table one_gy as select 1::UBIGINT as id;\n');
writeFileSync(join(inner, 'states/gy/S0_one.yaml'), 'id: gy.S0\nkernel: S0_one.sql\noutputs:\n  - dataset: one_gy\n    format: json\n    path: data/one\n    schema: contracts/one.yaml#/one\n');
mkdirSync(join(inner, 'contracts'));
writeFileSync(join(inner, 'contracts/one.yaml'), 'one: { type: object }\n');
const empty = mkdtempSync(join(tmpdir(), 'dag-no-project-'));
afterAll(() => {
  temp.removeAll();
  rmSync(empty, { recursive: true, force: true });
});

async function rootSeen(cwd: string, extra: string[] = []): Promise<{ root: string; states: number }> {
  const r = await runDag([...extra, 'validate', '--json'], { cwd });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as { root: string; states: number };
}

describe('the CLI finds its project', { timeout: CLI_TIMEOUT }, () => {
  it('from a nested subfolder, the nearest dag.yaml upwards', async () => {
    expect(await rootSeen(join(outer, 'states', 'fx', 'deep'))).toMatchObject({ root: outer, states: 5 });
  });

  it('the nearest of nested projects', async () => {
    expect(await rootSeen(join(inner, 'states', 'gy'))).toMatchObject({ root: inner, states: 1 });
    expect(await rootSeen(join(outer, 'vendor'))).toMatchObject({ root: outer, states: 5 });
  });

  it('--root wins over discovery, relative to the working folder', async () => {
    expect(await rootSeen(join(inner, 'states', 'gy'), ['--root', '../../../..'])).toMatchObject({ root: outer, states: 5 });
    expect(await rootSeen(outer, ['--root', 'vendor/inner'])).toMatchObject({ root: inner, states: 1 });
  });

  it('no dag.yaml anywhere: exit 2, [no-project], no stack trace', async () => {
    const r = await runDag(['validate'], { cwd: empty });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[no-project]');
    expect(r.stderr).toContain(empty);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it('--root at a folder without dag.yaml: exit 2, [no-project]', async () => {
    const r = await runDag(['--root', join(outer, 'states'), 'validate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[no-project]');
    expect(r.stderr).toContain('no dag.yaml there');
  });
});
