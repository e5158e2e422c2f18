// issue 16: one key style in every JSON document dag prints or writes: snake_case, as the receipts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dag, diamond, goodRun, TIMEOUT } from '../cache/helpers.js';

const SNAKE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

/**
 * The paths of keys that are not snake_case. `dataMaps` are the paths of objects whose keys are
 * data (state ids, dataset ids, column names, ...), not names of ours: their keys are not checked,
 * their values are (as `path.*`). A path is `$`, then `.key` into an object and `[]` into an array.
 */
function keysNotSnake(value: unknown, dataMaps: string[] = [], path = '$'): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => keysNotSnake(v, dataMaps, `${path}[]`));
  if (value === null || typeof value !== 'object') return [];
  const data = dataMaps.includes(path);
  return Object.entries(value).flatMap(([k, v]) => [...(data || SNAKE.test(k) ? [] : [`${path}.${k}`]), ...keysNotSnake(v, dataMaps, data ? `${path}.*` : `${path}.${k}`)]);
}

describe('the snake_case checker', () => {
  it('finds camelCase keys at any depth, and leaves the keys of data maps alone', () => {
    expect(keysNotSnake({ run_id: 1, runs: [{ exitCode: 0, counts: { ran: 1 } }] })).toEqual(['$.runs[].exitCode']);
    expect(keysNotSnake({ rows: { 'fx.S1': 3, myTable: 4 } }, ['$.rows'])).toEqual([]);
    // a data map's values are still ours
    expect(keysNotSnake({ states: { 'fx.S1': { estimateSeconds: 1 } } }, ['$.states'])).toEqual(['$.states.*.estimateSeconds']);
    expect(keysNotSnake([{ myCol: 1 }], ['$[]'])).toEqual([]);
  });
});

describe('JSON key style of the real CLI', { timeout: 4 * TIMEOUT }, () => {
  it('every command prints snake_case keys under --json, and a run writes them', async () => {
    const p = diamond();
    const first = await goodRun(p);
    const second = await goodRun(p, ['--from', 'fx.S2']);
    const [a, b] = [first.run_id, second.run_id];

    // command line -> the paths of its document whose keys are data
    const commands: [string[], string[]][] = [
      [['run', '--json'], []],
      [['run', '--seeds', '1,2', '--json'], []],
      [['plan', '--json'], []],
      [['plan', '--from', 'fx.S3', '--json'], []],
      [['plan', '--changed', 'fx.S2', '--json'], []],
      [['runs', '--json'], []],
      [['show', 'fx.S2', '--json'], []],
      [['show', 'fx.S4', '--json'], []],
      [['graph', '--json'], []],
      [['matrix', '--json'], []],
      [['validate', '--json'], []],
      [['diff', a, b, '--json'], []],
      [['perf', a, '--vs', b, '--json'], []],
      [['verify', a, '--json'], []],
      [['label', a, 'looked-at', '--json'], []],
      [['unlabel', a, 'looked-at', '--json'], []],
      [['prune', '--json'], []],
      [['query', a, 'select 1 as myCol', '--json'], ['$[]']],
      [['--version', '--json'], []],
      [['show', 'nowhere', '--json'], []], // an error
      [['run', '--jobs', 'x', '--json'], []], // a usage error
    ];
    for (const [args, dataMaps] of commands) {
      const r = await dag(p, args);
      let doc: unknown;
      try {
        doc = JSON.parse(r.stdout);
      } catch {
        throw new Error(`dag ${args.join(' ')} printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
      }
      expect(keysNotSnake(doc, dataMaps), `dag ${args.join(' ')}`).toEqual([]);
    }
    const group = (JSON.parse((await dag(p, ['runs', '--json'])).stdout) as { group: string | null }[]).find((r) => r.group)!.group!;
    const report = await dag(p, ['report', '--group', group, '--json']);
    expect(keysNotSnake(JSON.parse(report.stdout)), 'dag report').toEqual([]);

    // what a run writes: its receipt, its ledger, its log
    const dir = second.run_dir;
    expect(keysNotSnake(JSON.parse(readFileSync(join(dir, 'run_receipt.json'), 'utf8')))).toEqual([]);
    for (const line of readFileSync(join(dir, 'ledger.jsonl'), 'utf8').trim().split('\n')) expect(keysNotSnake(JSON.parse(line), ['$.rows'])).toEqual([]);
    const log = readFileSync(join(dir, 'logs', 'run.log'), 'utf8').trim().split('\n');
    expect(log.length).toBeGreaterThan(3);
    for (const line of log) expect(keysNotSnake(JSON.parse(line), ['$.estimates', '$.counts']), line).toEqual([]);
    expect(keysNotSnake(JSON.parse(readFileSync(join(dir, 'reports', 'perf.json'), 'utf8')))).toEqual([]);
  });
});
