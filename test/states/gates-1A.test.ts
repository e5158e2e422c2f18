// Every 1A realism gate can fail: for each, a plausible bad config edit in a temp copy of the engine
// project makes `dag run` exit 1 with that gate outside its B band (ENGINE.md, "Realism gates that
// mean something"). The repository's own config passes them all (engine-1A.test.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dagRun, ENGINE_TIMEOUT, engineCopy, entryOf, ledgerOf, removeTemps, type Project } from './engine-helpers.js';

afterAll(removeTemps);

interface Check {
  id: string;
  kind: string;
  value: number | null;
  pass_B: boolean;
}

const POLICY = 'config/1A/merchant_policy.yaml';
/** The outlet tail of the merchant policy: 1 + floor(Lomax(shape, scale)) (today shape 1.1, scale 0.155). */
const lomax = (p: Project, shape: number, scale: number) => {
  p.edit(POLICY, 'tail_shape: 1.1', `tail_shape: ${shape}`);
  p.edit(POLICY, 'scale: 0.155', `scale: ${scale}`);
};
const MCC = 'config/reference/mcc_codes.csv';
const ZONES = 'config/reference/country_zones.csv';

/** Rewrites the data rows of a CSV (header kept) through f. */
function mapRows(p: Project, rel: string, f: (fields: string[]) => string[] | null): void {
  const [header, ...rows] = p.read(rel).trim().split('\n');
  p.write(rel, [header, ...rows.map((r) => f(r.split(','))).filter((r): r is string[] => r !== null).map((r) => r.join(','))].join('\n') + '\n');
}

/** Replaces the zones of the given countries by the given (tzid, share) rows. */
function setZones(p: Project, zones: Record<string, [string, number][]>): void {
  mapRows(p, ZONES, (f) => (f[0]! in zones ? null : f));
  const extra = Object.entries(zones).flatMap(([iso, zs]) => zs.map(([tz, w]) => `${iso},${tz},${w}`));
  p.write(ZONES, p.read(ZONES) + extra.join('\n') + '\n');
}

/** Runs the copy; the run must fail on the 1A gate; returns the report's checks by id. */
async function failingRun(p: Project): Promise<Record<string, Check>> {
  const r = await dagRun(p);
  expect(r.code, r.stdout + r.stderr).toBe(1);
  const ledger = ledgerOf(r.json!.run_dir);
  const s3 = entryOf(ledger, '1A.S3');
  expect(s3.action).toBe('ran'); // the state ran to the end: the gate, not an error, failed the run
  expect(s3.gate).toMatchObject({ segment: '1A', passed: false });
  const report = JSON.parse(readFileSync(join(r.json!.run_dir, s3.gate!.path, 'validation_report_1A.json'), 'utf8')) as { passed: boolean; verdict: string; checks: Check[] };
  expect(report).toMatchObject({ passed: false, verdict: 'HOLD_REMEDIATE' });
  for (const c of report.checks.filter((c) => c.kind === 'invariant')) expect(c.value, c.id).toBe(0);
  return Object.fromEntries(report.checks.map((c) => [c.id, c]));
}

const cases: { gate: string; why: string; edit: (p: Project) => void; expect: (v: number) => void }[] = [
  {
    gate: 'virtual_share',
    why: 'online_scale 0.1: almost nobody sells online',
    edit: (p) => p.edit(POLICY, 'online_scale: 0.8', 'online_scale: 0.1'),
    expect: (v) => expect(v).toBeLessThan(0.05),
  },
  {
    gate: 'cross_border_share',
    why: '90 % of chains also run outlets abroad',
    edit: (p) => p.edit(POLICY, 'merchant_share: 0.12', 'merchant_share: 0.9'),
    expect: (v) => expect(v).toBeGreaterThan(0.05),
  },
  {
    gate: 'single_outlet_share',
    why: 'a Lomax scale four times too large: a third of merchants are chains',
    edit: (p) => p.edit(POLICY, 'scale: 0.155', 'scale: 0.6'),
    expect: (v) => expect(v).toBeLessThan(0.8),
  },
  {
    gate: 'outlets_p99',
    why: 'a thin tail (shape 4) with the same share of chains: no chain grows past a handful of outlets',
    edit: (p) => lomax(p, 4, 1.36),
    expect: (v) => expect(v).toBeLessThan(5),
  },
  {
    gate: 'top1pct_outlet_share',
    why: 'shape 2.5: many small chains and no large ones',
    edit: (p) => lomax(p, 2.5, 0.6),
    expect: (v) => expect(v).toBeLessThan(0.15),
  },
  {
    gate: 'outlets_tail_index',
    why: 'a cap of 15 outlets per merchant (the tail piles up at the cap)',
    edit: (p) => p.edit(POLICY, /^ {2}max: 100000$/m, '  max: 15'),
    expect: (v) => expect(v).toBeGreaterThan(1.8),
  },
  {
    gate: 'mcc_top10_share',
    why: 'every MCC equally likely (caterers as common as restaurants)',
    edit: (p) => mapRows(p, MCC, (f) => [...f.slice(0, -1), '1']),
    expect: (v) => expect(v).toBeLessThan(0.3),
  },
  {
    gate: 'mcc_class_jsd',
    why: 'a portfolio weighted like an e-commerce acquirer: digital codes as common as restaurants',
    edit: (p) => mapRows(p, MCC, (f) => (['4816', '5815', '5816', '5817', '5818', '5967', '5968', '7372'].includes(f[0]!) ? [...f.slice(0, -1), '40'] : f)),
    expect: (v) => expect(v).toBeGreaterThan(0.03),
  },
  {
    gate: 'zone_share_max_error',
    why: "a flat 25 % of every two-zone country's outlets in its secondary zone (US on New York and Los Angeles, China on Shanghai and Urumqi)",
    edit: (p) =>
      setZones(p, {
        US: [['America/New_York', 0.75], ['America/Los_Angeles', 0.25]],
        CN: [['Asia/Shanghai', 0.75], ['Asia/Urumqi', 0.25]],
      }),
    expect: (v) => expect(v).toBeGreaterThan(0.08),
  },
  {
    gate: 'zone_share_max_error',
    why: 'the US only on its two coasts',
    edit: (p) => setZones(p, { US: [['America/New_York', 0.6], ['America/Los_Angeles', 0.4]] }),
    expect: (v) => expect(v).toBeGreaterThan(0.08),
  },
];

describe.concurrent('each 1A realism gate fails on a plausible bad config (dev world, seed 42)', () => {
  it.each(cases)('$gate: $why', async (c) => {
    const p = engineCopy();
    c.edit(p);
    const checks = await failingRun(p);
    const gate = checks[c.gate]!;
    expect(gate, c.gate).toMatchObject({ kind: 'realism', pass_B: false });
    c.expect(gate.value!);
  }, ENGINE_TIMEOUT);

  it('every realism gate of the report has a case here', async () => {
    const policy = readFileSync(join(engineCopy().root, 'config', '1A', 'validation_policy.yaml'), 'utf8');
    const gates = [...policy.matchAll(/^ {2}([a-z0-9_]+):/gm)].map((m) => m[1]);
    expect([...new Set(cases.map((c) => c.gate))].sort()).toEqual([...gates].sort());
  });
});
