// `dag ui --allow-run` and the command lines of `dag report --html`, without a browser (test/ui/ drives one).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, copyFixture, dag, LIFECYCLE_TIMEOUT, REPO, tempDir } from '../lifecycle/helpers.js';
import { spawnCli } from '../support/cli.js';

afterAll(cleanup);

describe('dag ui --allow-run', () => {
  it('POST /api/run (a JSON body) starts dag run in its own process; the page sees the run', async () => {
    const root = copyFixture();
    const runs = tempDir('runs');
    const ui = spawnCli(['--root', root, 'ui', '--port', '0', '--allow-run'], { cwd: REPO, env: { DAG_RUNS_DIR: runs } });
    try {
      let url: string | undefined;
      for (let i = 0; i < 400 && !url; i++, await new Promise((r) => setTimeout(r, 50))) url = /http:\/\/127\.0\.0\.1:\d+\//.exec(ui.output())?.[0];
      expect(url, ui.errors()).toBeDefined();
      expect(ui.output()).toContain('runs may be started from the page');
      const form = await fetch(url + 'api/run', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'seed=1' });
      expect(form.status).toBe(415); // what a cross-site form could send
      expect((await fetch(url + 'api/run', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"seed": -1}' })).status).toBe(400);
      const post = await fetch(url + 'api/run', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"seed": 7}' });
      expect(post.status).toBe(202);
      expect(((await post.json()) as { args: string[] }).args).toEqual(['--root', root, 'run', '--quiet', '--seed', '7']);
      let rows: { id: string; seed: number; status: string }[] = [];
      for (let i = 0; i < 600 && !rows.some((r) => r.status === 'succeeded'); i++, await new Promise((r) => setTimeout(r, 100))) rows = (await (await fetch(url + 'api/runs')).json()) as typeof rows;
      expect(rows).toMatchObject([{ seed: 7, status: 'succeeded' }]);
      const detail = (await (await fetch(url + `api/runs/${rows[0]!.id.slice(0, 6)}`)).json()) as { ledger: unknown[]; gateboards: { report: string }[] };
      expect(detail.ledger.length).toBe(5);
      expect(detail.gateboards.map((g) => g.report)).toEqual(['validation_report_fx']);
      expect((await fetch(url + 'api/runs/nosuchrun')).status).toBe(404);
      expect((await fetch(url + 'api/project', { method: 'DELETE' })).status).toBe(405);
    } finally {
      ui.kill('SIGTERM');
      expect((await ui.result).code).toBe(0); // Ctrl-C or SIGTERM: the server closes, the page's streams too
    }
  }, LIFECYCLE_TIMEOUT);
});

describe('dag report --html', () => {
  it('takes a file and a run, and refuses --group beside it, or neither (exit 2)', async () => {
    const root = copyFixture();
    const runs = tempDir('runs');
    const neither = await dag(root, runs, ['report']);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('--group G');
    const both = await dag(root, runs, ['report', '--html', 'x.html', '--group', 'abcd']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/give one/);
    const file = join(tempDir('html'), 'empty.html');
    const none = await dag(root, runs, ['report', '--html', file, '--json']); // no run yet: the graph and the plan
    expect(none.code, none.stderr).toBe(0);
    expect(JSON.parse(none.stdout)).toMatchObject({ file, run: null, runs: 0 });
    expect(existsSync(file)).toBe(true);
    expect((await dag(root, runs, ['report', '--html', file, 'nosuchrun'])).code).toBe(2);
  }, LIFECYCLE_TIMEOUT);
});
