// issue 16, the CLI conventions a new user tripped on, each with the command line that showed it.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diamond, dag, goodRun, runJson, TIMEOUT, write } from '../cache/helpers.js';

describe('CLI conventions', { timeout: TIMEOUT }, () => {
  it('--version prints dag and DuckDB versions, in text and JSON, anywhere on the line', async () => {
    const p = diamond();
    const text = await dag(p, ['--version']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^dag \d+\.\d+\.\d+ \(DuckDB \d+\.\d+\.\d+[^,]*, Node v\d+/);
    const json = await dag(p, ['run', '--version', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ dag: expect.any(String), duckdb: expect.any(String) });
  });

  it('graph --json is graph --format json; a flag error under --json is a JSON document with exit 2', async () => {
    const p = diamond();
    const g = await dag(p, ['graph', '--json']);
    expect(g.code, g.stderr).toBe(0);
    expect(JSON.parse(g.stdout).nodes.length).toBe(5);
    const bad = await dag(p, ['run', '--jobs', 'x', '--json']);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, exit_code: 2, errors: [{ code: 'usage' }] });
  });

  it('warnings and failures go to stderr, and a failure is said once', async () => {
    const p = diamond();
    write(p, 'states/fx/S2_merchants.sql', '-- step: broken\ncreate table merchants_fx as select * from no_such_table;\n');
    const r = await dag(p, ['run']);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/no_such_table/);
    expect(r.stderr.match(/Catalog Error/g)?.length, r.stderr).toBe(1); // (DuckDB's message names the table twice itself)
    expect(r.stderr).toMatch(/^failed\s+fx\.S2\b/m);
  });

  it('--scenarios for a project without scenario-scoped states is refused (exit 2), not ignored', async () => {
    const p = diamond();
    // the diamond has no scenario-scoped state
    const r = await dag(p, ['run', '--scenarios', 'a,b']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no state of this project is scenario-scoped/);
  });

  it('a failed run cannot be labelled last-good (exit 3); a succeeded one can', async () => {
    const p = diamond();
    write(p, 'states/fx/S4_summary.sql', '-- step: broken\nselect * from nowhere;\n');
    const failed = await runJson(p);
    expect(failed.status).toBe('failed');
    const r = await dag(p, ['label', failed.run_id, 'last-good']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/is failed; last-good names a succeeded run/);
    expect((await dag(p, ['label', failed.run_id, 'looked-at'])).code).toBe(0);
  });

  it('an empty project is an error, not a run that succeeds at nothing', async () => {
    const p = diamond();
    rmSync(join(p.root, 'states', 'fx'), { recursive: true, force: true });
    mkdirSync(join(p.root, 'states'), { recursive: true });
    writeFileSync(join(p.root, 'states', 'README.txt'), 'no manifests here\n');
    const r = await dag(p, ['run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/states\/.*the project has no states/);
  });

  it('perf of a run served from the cache says no state ran, instead of an empty table', async () => {
    const p = diamond();
    await goodRun(p);
    const cached = await goodRun(p);
    const r = await dag(p, ['perf', cached.run_id]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^no state ran in run [0-9a-f]{32} \(5 cached\)/);
  });
});
