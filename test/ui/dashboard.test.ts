// `dag ui` and `dag report --html` in a real browser (Debian's chromium, driven by playwright-core):
// the graph, a state's details and highlight, a run followed live from another process, the
// gateboard, the read-only guard, and the static report opened offline. Skipped only when
// /usr/bin/chromium is absent (.ci/run installs it).
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, spawnCli, type CliProcess } from '../support/cli.js';
import { removeTemps, tempDir } from '../support/temp.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn(`test/ui/dashboard.test.ts skipped: ${CHROMIUM} is absent (apt-get install -y chromium; .ci/run does it)`);

/** Screenshots of the pages under test, kept after the run (test-artifacts/ is ignored by git). */
const ARTIFACTS = join(REPO, 'test-artifacts');
const TIMEOUT = 60_000;

/**
 * The certify fixture (two segments, validation reports with bands) plus dz.S2, a TypeScript
 * kernel that waits 1.5 s, so that a run lasts long enough to be watched.
 */
function fixture(): string {
  const root = join(tempDir('ui-project'), 'certify');
  cpSync(join(REPO, 'test', 'fixtures', 'certify'), root, { recursive: true });
  mkdirSync(join(root, 'states', '_lib'), { recursive: true });
  cpSync(join(REPO, 'states', '_lib', 'validation.sql'), join(root, 'states', '_lib', 'validation.sql'));
  cpSync(join(REPO, 'contracts', 'engine.yaml'), join(root, 'contracts', 'engine.yaml'));
  writeFileSync(
    join(root, 'states', 'dz', 'S2_slow.yaml'),
    ['id: dz.S2', 'title: Slow copy — waits, then copies the items', 'scope: seed', 'kernel: S2_slow.ts', 'inputs:', '  - dataset: items_cz', 'outputs:', '  - dataset: slow_items_dz', '    format: parquet', '    path: data/dz/slow/seed={seed}', '    schema: contracts/fixture.yaml#/tables/items', '    order_by: [item_id]', 'budget_seconds: 0.5', ''].join('\n'),
  );
  writeFileSync(
    join(root, 'states', 'dz', 'S2_slow.ts'),
    [
      'export default async function (ctx: { step: (name: string, body: () => Promise<unknown>) => Promise<unknown>; con: { run: (sql: string) => Promise<unknown> } }) {',
      "  await ctx.step('wait', () => new Promise((resolve) => setTimeout(resolve, 1500)));",
      "  await ctx.step('copy', () => ctx.con.run('create table slow_items_dz as select * from items_cz'));",
      '}',
      '',
    ].join('\n'),
  );
  return root;
}

/** `dag ui --port 0` started, and the address it printed. */
async function startUi(root: string, runs: string, extra: string[] = []): Promise<{ ui: CliProcess; url: string }> {
  const ui = spawnCli(['--root', root, 'ui', '--port', '0', ...extra], { cwd: REPO, env: { DAG_RUNS_DIR: runs } });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(ui.output());
    if (m) return { ui, url: m[0] };
    if (ui.exitCode !== null) throw new Error(`dag ui exited ${ui.exitCode}: ${ui.errors()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`dag ui printed no address: ${ui.output()} ${ui.errors()}`);
}

describe.skipIf(!HAVE_CHROMIUM)(`dag ui in a browser (${CHROMIUM})`, () => {
  const root = fixture();
  const runs = tempDir('ui-runs');
  let browser: Browser;
  let ui: CliProcess;
  let url: string;
  let runId: string;
  const errors: string[] = [];

  async function open(hash = '#graph'): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url + hash);
    await page.waitForSelector('body[data-ready=true]');
    return page;
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const { chromium } = await import('playwright-core');
    [browser, { ui, url }] = await Promise.all([chromium.launch({ executablePath: CHROMIUM, headless: true }), startUi(root, runs)]);
  }, TIMEOUT);
  afterAll(async () => {
    await browser?.close();
    ui?.kill('SIGTERM');
    await ui?.result;
    removeTemps();
  });

  it('shows the graph as SVG, segment by segment, colored by what dag plan would do', async () => {
    const page = await open();
    const states = await page.$$eval('#graph svg g.state', (gs) => gs.map((g) => [(g as HTMLElement).dataset.state, (g as HTMLElement).dataset.status]));
    expect(states.sort()).toEqual([['cz.S1', 'plan-run'], ['cz.S2', 'plan-run'], ['dz.S1', 'plan-run'], ['dz.S2', 'plan-run']]);
    expect(await page.$$eval('#graph g.segment', (gs) => gs.map((g) => (g as HTMLElement).dataset.segment))).toEqual(['cz', 'dz']);
    expect(await page.textContent('g.state[data-state="cz.S1"] title')).toContain('run — new');
    // a segment collapses into one box, and opens again
    await page.click('g.segment[data-segment="dz"] text.segment-label');
    await page.waitForSelector('g.state.collapsed[data-segment="dz"]');
    expect(await page.$$eval('#graph g.state[data-state]', (gs) => gs.map((g) => (g as HTMLElement).dataset.state))).toEqual(['cz.S1', 'cz.S2']);
    await page.click('g.state.collapsed[data-segment="dz"]');
    await page.waitForSelector('g.state[data-state="dz.S2"]');
    await page.close();
  });

  it('a click on a state shows its manifest, inputs and outputs, and highlights upstream and downstream', async () => {
    const page = await open();
    await page.click('g.state[data-state="cz.S2"]');
    const details = await page.textContent('#details');
    expect(details).toContain('states/cz/S2_validation.yaml');
    expect(details).toContain('items_cz');
    expect(details).toContain('validation_report_cz');
    const cls = async (id: string) => (await page.getAttribute(`g.state[data-state="${id}"]`, 'class')) ?? '';
    expect(await cls('cz.S2')).toContain('hl-selected');
    expect(await cls('cz.S1')).toContain('hl-up');
    expect(await cls('dz.S1')).toContain('hl-dim');
    await page.click('g.state[data-state="cz.S1"]');
    expect(await cls('cz.S2')).toContain('hl-down');
    expect(await cls('dz.S2')).toContain('hl-down');
    await page.close();
  });

  it('follows a dag run started in another process, live: pending and running, then succeeded', async () => {
    const graph = await open('#graph');
    const live = await open('#live');
    expect(await live.textContent('#live')).toContain('no runs yet');
    // every status dz.S2 shows on the live page, sampled faster than the feed changes
    await live.evaluate(() => {
      const seen: string[] = ((window as unknown as { seen: string[] }).seen = []);
      setInterval(() => {
        const s = document.querySelector<HTMLElement>('li[data-task="dz.S2"]')?.dataset.status;
        if (s && seen[seen.length - 1] !== s) seen.push(s);
      }, 30);
    });
    const run = spawnCli(['--root', root, 'run', '--json'], { cwd: REPO, env: { DAG_RUNS_DIR: runs } });
    // dz.S2 running, with an ETA (its estimate is unknown on a first run, so it counts as never timed)
    await live.waitForFunction(() => document.querySelector('li[data-task="dz.S2"][data-status="running"]') && /ETA/.test(document.querySelector('.live-run')?.textContent ?? ''), undefined, { timeout: 30_000 });
    await graph.waitForSelector('g.state.st-running[data-state="dz.S2"]', { timeout: 10_000 });
    // a page opened now gets the run so far in its snapshot
    const late = await open('#live');
    expect(await late.getAttribute('li[data-task="cz.S1"]', 'data-status')).toBe('ran');
    const r = await run.result;
    expect(r.code, r.stderr).toBe(0);
    runId = (JSON.parse(r.stdout) as { run_id: string }).run_id;
    await live.waitForSelector(`.live-run[data-run="${runId}"][data-status="succeeded"]`, { timeout: 10_000 });
    await late.waitForSelector('li[data-task="dz.S2"][data-status="ran"]', { timeout: 10_000 });
    await graph.waitForSelector('g.state.st-ran[data-state="dz.S2"]', { timeout: 10_000 });
    await live.waitForSelector('li[data-task="dz.S2"][data-status="ran"]', { timeout: 10_000 });
    expect(await live.evaluate(() => (window as unknown as { seen: string[] }).seen)).toEqual(['pending', 'running', 'ran']);
    expect(await graph.$$eval('#graph g.state', (gs) => gs.map((g) => (g as HTMLElement).dataset.status))).toEqual(['ran', 'ran', 'ran', 'ran']);
    await graph.screenshot({ path: join(ARTIFACTS, 'ui-graph.png') });
    for (const p of [graph, live, late]) await p.close();
  }, TIMEOUT);

  it("a run's view: its timeline, perf against budgets, and the gateboard's values and bands", async () => {
    const page = await open(`#run/${runId}`);
    await page.waitForSelector('#gateboard tr[data-gate="flag_share"]');
    const report = publishedReport(join(runs, runId), 'validation_report_cz');
    const flag = report.checks.find((c) => c.id === 'flag_share')!;
    const cells = await page.$$eval('#gateboard .board[data-report="validation_report_cz"] tr[data-gate="flag_share"] td', (tds) => tds.map((t) => t.textContent));
    expect(cells).toEqual(['flag_share', 'realism', String(Number(flag.value!.toFixed(4))), '[0.05, 0.95]', '[0.2, 0.8]', 'PASS', '✓']);
    expect(await page.textContent('.board[data-report="validation_report_cz"] tr[data-gate="cross_seed_cv"]')).toContain('PENDING');
    expect(await page.textContent('.board[data-report="validation_report_dz"]')).toContain('chain_complete');
    expect(await page.$$eval('#gantt g.bar', (gs) => gs.map((g) => (g as HTMLElement).dataset.task).sort())).toEqual(['cz.S1', 'cz.S2', 'dz.S1', 'dz.S2']);
    expect(await page.textContent('#perf')).toMatch(/dz\.S2[\s\S]*0\.50s OVER/);
    await page.screenshot({ path: join(ARTIFACTS, 'ui-run.png'), fullPage: true });
    await page.close();
    expect(errors).toEqual([]);
  });

  it('is read-only: POST /api/run is refused without --allow-run, and only a local Host is answered', async () => {
    const post = await fetch(url + 'api/run', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(post.status).toBe(403);
    expect(((await post.json()) as { error: string }).error).toContain('--allow-run');
    // a page of another name that resolves here (DNS rebinding) is refused (fetch cannot set Host: node:http can)
    const status = await new Promise<number | undefined>((resolve, reject) => get(url + 'api/runs', { headers: { host: 'evil.example' } }, (res) => (res.resume(), resolve(res.statusCode))).on('error', reject));
    expect(status).toBe(403);
  });

  it('dag report --html FILE RUN: the same views in one file, opened offline', async () => {
    const file = join(tempDir('ui-html'), 'report.html');
    const w = spawnCli(['--root', root, 'report', '--html', file, runId], { cwd: REPO, env: { DAG_RUNS_DIR: runs } });
    const r = await w.result;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`run ${runId}`);
    const context = await browser.newContext({ offline: true, viewport: { width: 1280, height: 860 } });
    const requests: string[] = [];
    await context.route('**/*', (route) => (route.request().url().startsWith('file:') ? route.continue() : (requests.push(route.request().url()), route.abort())));
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`file://${file}#run/${runId}`);
    await page.waitForSelector('body[data-ready=true]');
    expect(await page.textContent('#mode')).toContain('static report');
    expect(await page.textContent('#gateboard tr[data-gate="flag_share"]')).toContain('[0.05, 0.95]');
    await page.goto(`file://${file}#graph`);
    await page.waitForSelector('g.state[data-state="dz.S2"][data-status="ran"]');
    await page.click('g.state[data-state="dz.S2"]');
    expect(await page.textContent('#details')).toContain('S2_slow.ts');
    await page.click('g.segment[data-segment="cz"] text.segment-label');
    await page.waitForSelector('g.state.collapsed[data-segment="cz"]');
    expect(requests).toEqual([]);
    expect(readFileSync(file, 'utf8')).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet/);
    await context.close();
    expect(errors).toEqual([]);
  }, TIMEOUT);
});

function publishedReport(runDir: string, dataset: string): { checks: { id: string; value: number | null }[] } {
  const lines = readFileSync(join(runDir, 'ledger.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { outputs?: { dataset: string; path: string }[] });
  const out = lines.flatMap((e) => e.outputs ?? []).find((o) => o.dataset === dataset)!;
  return JSON.parse(readFileSync(join(runDir, out.path), 'utf8'));
}
