// Fail-closed (ORCHESTRATOR.md §4, §6, §12): a state whose kernel breaks its contract publishes
// nothing, stops its dependants, lets the independent branch finish, and marks the run failed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { actionsOf, dag, diamondCopy, filesUnder, ledgerOf, onlyRun, receiptOf, runIds, sha256, slowKernel } from './harness.js';

const T = 60_000;
const KERNEL = 'states/fx/S2_merchants.sql';

interface Broken {
  name: string;
  /** Rewrites S2_merchants.sql (or, given `files`, writes those files instead). */
  edit?: (sql: string) => string;
  files?: Record<string, (text: string | undefined) => string>;
  /** What the ledger's error must hold. */
  error: { output?: string; column?: string; rule?: string; step?: string };
  /** Text the terminal and the ledger's error message must contain. */
  says: (string | RegExp)[];
}

const cases: Broken[] = [
  {
    name: 'a kernel that forgets its output table',
    edit: (sql) => sql.replace('create table merchants_fx as', 'create table merchant_list as'),
    error: { output: 'merchants_fx', rule: 'missing-output' },
    says: ["no table 'merchants_fx'", 'merchants_fx'],
  },
  {
    name: 'a null in a non-null column',
    edit: (sql) => sql.replace("else 'SHOP' end as kind", 'else null end as kind'),
    error: { output: 'merchants_fx', column: 'kind', rule: 'not-null' },
    says: ['merchants_fx', "null in non-nullable column 'kind'"],
  },
  {
    name: 'a duplicated primary key',
    edit: (sql) => sql.replace('row_number() over (order by region_id, i)::UBIGINT as merchant_id', 'region_id as merchant_id'),
    error: { output: 'merchants_fx', column: 'merchant_id', rule: 'primary-key' },
    says: ['merchants_fx', 'primary key (merchant_id) is duplicated'],
  },
  {
    name: 'a SQL syntax error',
    edit: (sql) => sql.replace('select row_number()', 'selec row_number()'),
    error: { step: 'draw' },
    says: ["SQL error in step 'draw'", /syntax error/i, 'selec'],
  },
  {
    name: 'a kernel process that dies (a TypeScript kernel killed mid-step)',
    files: {
      'states/fx/S2_merchants.yaml': (yaml) => yaml!.replace('kernel: S2_merchants.sql', 'kernel: S2_merchants.ts'),
      'states/fx/S2_merchants.ts': () => [
        'export default async function (ctx: { step: (name: string, body: () => Promise<unknown>) => Promise<unknown>; con: { run: (sql: string) => Promise<unknown> } }) {',
        "  await ctx.step('draw', async () => {",
        "    await ctx.con.run('create table merchants_fx as select 1::UBIGINT as merchant_id, 1::UBIGINT as region_id, \\'SHOP\\' as kind');",
        "    process.kill(process.pid, 'SIGKILL');",
        '  });',
        '}',
        '',
      ].join('\n'),
    },
    error: { step: 'draw' },
    says: ["kernel process died in step 'draw'", 'SIGKILL'],
  },
];

describe('a failing state (fx.S2) in its own copy of the diamond', () => {
  it.concurrent.each(cases)('$name: exit 1, named in terminal and ledger, nothing published, dependants skipped, run failed', async (c) => {
    const p = diamondCopy(({ root, read, write }) => {
      for (const [file, make] of Object.entries(c.files ?? {})) write(file, make(existsSync(join(root, file)) ? read(file) : undefined));
      if (!c.edit) return;
      const before = read(KERNEL);
      const after = c.edit(before);
      expect(after, 'the edit must change the kernel').not.toBe(before);
      write(KERNEL, after);
    });
    const r = await dag(p, ['run']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const { id, dir } = onlyRun(p);

    // the terminal names the state, the dataset and the rule
    const terminal = r.stdout + r.stderr;
    expect(terminal).toMatch(/^failed\s+fx\.S2\b/m);
    expect(terminal).toContain('fx.S2: ');
    for (const s of c.says) expect(terminal).toMatch(typeof s === 'string' ? new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : s);

    // so does the ledger
    const ledger = ledgerOf(dir);
    const failed = ledger.filter((e) => e.action === 'failed');
    expect(failed.map((e) => e.state)).toEqual(['fx.S2']);
    const err = failed[0]!.error!;
    expect(err.message).toMatch(/^fx\.S2: /);
    for (const s of c.says) expect(err.message).toMatch(typeof s === 'string' ? new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : s);
    expect(err).toMatchObject(c.error);
    expect(failed[0]!.outputs ?? []).toEqual([]);

    // nothing of fx.S2 (or anything downstream) is published; the independent branch is
    expect(existsSync(join(dir, 'data/fx/merchants_fx'))).toBe(false);
    expect(existsSync(join(dir, 'data/fx/pairs_fx'))).toBe(false);
    expect(existsSync(join(dir, 'data/fx/validation'))).toBe(false);
    expect(existsSync(join(dir, 'reports/fx'))).toBe(false);
    expect(filesUnder(dir, '.tmp')).toEqual([]);
    expect(actionsOf(ledger)).toEqual({ 'fx.S0': 'ran', 'fx.S1': 'ran', 'fx.S2': 'failed', 'fx.S3': 'skipped', 'fx.S4': 'skipped' });
    const s1 = ledger.find((e) => e.state === 'fx.S1')!;
    expect(existsSync(join(dir, s1.outputs![0]!.path))).toBe(true);
    expect(ledger.find((e) => e.state === 'fx.S3')!.reason).toContain('fx.S2');
    expect(ledger.find((e) => e.state === 'fx.S4')!.reason).toMatch(/fx\.S[23]/);

    // the log has the kernel's error too
    const log = readFileSync(join(dir, 'logs/run.log'), 'utf8');
    expect(log).toMatch(/"level":"error"[^\n]*"state":"fx\.S2"|"state":"fx\.S2"[^\n]*"level":"error"/);

    // the run is failed, never succeeded, in the receipt and in `dag runs`
    expect(receiptOf(dir).status).toBe('failed');
    const runs = await dag(p, ['runs', '--json']);
    expect(runs.code, runs.stderr).toBe(0);
    expect((JSON.parse(runs.stdout) as { id: string; status: string; failed: number }[])).toEqual([expect.objectContaining({ id, status: 'failed', failed: 1 })]);

    // `dag verify` still passes for what was published (fx.S0, fx.S1)
    const v = await dag(p, ['verify', id]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
  }, T);
});

describe('fail-closed with --jobs 2', () => {
  it('fx.S2 fails while fx.S1 is still running: fx.S1 finishes and publishes, fx.S3 and fx.S4 are skipped', async () => {
    const p = diamondCopy((e) => {
      slowKernel(e, 'states/fx/S1_customers.sql', 250_000_000); // seconds of burning, so fx.S2's failure (a process start away) comes first even on a busy or fast machine
      e.write(KERNEL, e.read(KERNEL).replace('select row_number()', 'selec row_number()'));
    });
    const r = await dag(p, ['run', '--jobs', '2']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const { dir } = onlyRun(p);
    const ledger = ledgerOf(dir);
    // fx.S2 failed first, while fx.S1 was burning: the two really ran at once
    const lines = ledger.map((e) => `${e.state} ${e.action}`);
    expect([...lines].sort()).toEqual(['fx.S0 ran', 'fx.S1 ran', 'fx.S2 failed', 'fx.S3 skipped', 'fx.S4 skipped']);
    expect(lines.indexOf('fx.S2 failed')).toBeLessThan(lines.indexOf('fx.S1 ran'));
    const s1 = ledger.find((e) => e.state === 'fx.S1')!;
    expect(sha256(join(dir, s1.outputs![0]!.path))).toBe(s1.outputs![0]!.sha256);
    expect(existsSync(join(dir, 'data/fx/merchants_fx'))).toBe(false);
    expect(receiptOf(dir).status).toBe('failed');
  }, T);
});

describe('a JSON output that breaks its JSON Schema', () => {
  it('fails its state (fx.S4) with the rule and the pointer, and publishes nothing of it', async () => {
    const p = diamondCopy(({ read, write }) => write('states/fx/S4_summary.sql', read('states/fx/S4_summary.sql').replace("'pairs', count(*)", "'pairs', -count(*)")));
    const r = await dag(p, ['run']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const { dir } = onlyRun(p);
    const s4 = ledgerOf(dir).find((e) => e.state === 'fx.S4')!;
    expect(s4.action).toBe('failed');
    expect(s4.error).toMatchObject({ output: 'summary_fx', rule: 'json-schema' });
    expect(s4.error!.message).toMatch(/^fx\.S4: output summary_fx breaks its contract contracts\/fx\.yaml#\/summary: \/pairs must be >= 0/);
    expect(existsSync(join(dir, 'reports/fx'))).toBe(false);
    expect(receiptOf(dir).status).toBe('failed');
  }, T);
});

describe('a bad input file', () => {
  it('customers_per_region: -1 exits 2 naming config/params.yaml and leaves no run folder', async () => {
    const p = diamondCopy(({ read, write }) => write('config/params.yaml', read('config/params.yaml').replace('customers_per_region: 50', 'customers_per_region: -1')));
    const r = await dag(p, ['run']);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error: config\/params\.yaml:2\b.*\/customers_per_region/m);
    expect(r.stderr).not.toMatch(/^\s+at \S/m);
    expect(runIds(p)).toEqual([]);
    expect(existsSync(p.runsDir) ? readdirSync(p.runsDir) : []).toEqual([]);
  }, T);
});
