// issue 16: tables fit the terminal (cells cut with …, free text first); --wide and pipes get every cell in full.
import { describe, expect, it } from 'vitest';
import { fitWidths, table, tableWidth } from '../../dag/cli/table.js';
import { runCli } from '../support/cli.js';
import { diamond, goodRun, TIMEOUT, type Proj } from '../cache/helpers.js';

const dagAt = (p: Proj, args: string[], columns: string | undefined) => runCli(['--root', p.root, ...args], { cwd: p.root, env: { DAG_RUNS_DIR: p.runsDir, COLUMNS: columns } });
const widest = (text: string) => Math.max(...text.split('\n').map((l) => l.length));

describe('table layout', () => {
  it('a terminal gives its columns; a pipe gives $COLUMNS when set, else no limit; --wide never a limit', () => {
    expect(tableWidth({}, { isTTY: true, columns: 120 }, {})).toBe(120);
    expect(tableWidth({}, { isTTY: true }, { COLUMNS: '90' })).toBe(90);
    expect(tableWidth({}, { isTTY: true }, {})).toBe(80);
    expect(tableWidth({}, { isTTY: false }, { COLUMNS: '70' })).toBe(70);
    expect(tableWidth({}, { isTTY: false }, {})).toBeUndefined();
    expect(tableWidth({}, { isTTY: false }, { COLUMNS: 'wide' })).toBeUndefined();
    expect(tableWidth({ wide: true }, { isTTY: true, columns: 40 }, { COLUMNS: '40' })).toBeUndefined();
  });

  it('free-text columns shrink first, then the widest; headers are kept while they fit', () => {
    // ID 32, REASON 420, SIZE 9: at 60 the reason gives way first, then the id
    expect(fitWidths([32, 420, 9], ['ID', 'REASON', 'SIZE'], 60, [false, true, false])).toEqual([32, 15, 9]);
    expect(fitWidths([32, 420, 9], ['ID', 'REASON', 'SIZE'], 40, [false, true, false])).toEqual([15, 12, 9]);
    expect(fitWidths([32, 420, 9], ['ID', 'REASON', 'SIZE'], undefined, [false, true, false])).toEqual([32, 420, 9]);
    const t = table(['ID', 'REASON'], [['a'.repeat(32), 'why '.repeat(100)]], { width: 50, free: ['REASON'] });
    expect(widest(t)).toBeLessThanOrEqual(50);
    expect(t.split('\n')[1]).toMatch(/^a{32} {2}(why ){3}why…$/);
    // too narrow for the headers: they are cut too, and the table still fits
    expect(widest(table(['FIRST', 'SECOND', 'THIRD'], [['x', 'y', 'z']], { width: 9 }))).toBeLessThanOrEqual(9);
  });
});

describe('tables of the real CLI', { timeout: TIMEOUT }, () => {
  it('dag query: a 4000-character cell is cut to COLUMNS; --wide and a pipe without COLUMNS print it whole', async () => {
    const p = diamond();
    const run = await goodRun(p);
    const sql = "select 1 as n, repeat('x', 4000) as q, 'short' as tail";
    const fitted = await dagAt(p, ['query', run.run_id, sql], '80');
    expect(fitted.code, fitted.stderr).toBe(0);
    expect(widest(fitted.stdout)).toBeLessThanOrEqual(80);
    expect(fitted.stdout).toMatch(/^1 {2}x+… {2}short$/m);
    const wide = await dagAt(p, ['query', run.run_id, sql, '--wide'], '80');
    expect(wide.stdout).toContain('x'.repeat(4000));
    expect(wide.stdout).not.toContain('…');
    const piped = await dagAt(p, ['query', run.run_id, sql], undefined);
    expect(piped.stdout).toContain('x'.repeat(4000));
  });

  it('dag runs: a 420-character LABELS cell gives way first; the run id keeps its width; --wide shows every label', async () => {
    const p = diamond();
    const run = await goodRun(p);
    const labels = Array.from({ length: 10 }, (_, i) => `l${i}-${'x'.repeat(37)}`);
    for (const l of labels) expect((await dagAt(p, ['label', run.run_id, l], undefined)).code).toBe(0);
    const fitted = await dagAt(p, ['runs'], '140');
    expect(fitted.code, fitted.stderr).toBe(0);
    expect(widest(fitted.stdout)).toBeLessThanOrEqual(140);
    expect(fitted.stdout).toContain(run.run_id);
    expect(fitted.stdout).toMatch(/ [0-9a-z,-]{18}… /);
    const wide = await dagAt(p, ['runs', '--wide'], '140');
    for (const l of labels) expect(wide.stdout).toContain(l);
  });

  it('dag prune and dag plan fit 60 columns, and say what they cut with …', async () => {
    const p = diamond();
    await goodRun(p);
    await goodRun(p);
    for (const args of [['prune'], ['plan', '--no-cache']]) {
      const r = await dagAt(p, args, '60');
      expect(r.code, r.stderr).toBe(0);
      const rows = r.stdout.split('\n\n')[0]!;
      expect(widest(rows), rows).toBeLessThanOrEqual(60);
      if (args[0] === 'prune') {
        expect(rows).toContain('…');
        expect((await dagAt(p, [...args, '--wide'], '60')).stdout).toContain('label: last-good (retention.keep_labels)');
      }
    }
  });
});
