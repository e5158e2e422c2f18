// Every 5A realism gate can fail: for each, a plausible bad edit of a 5A policy, applied to a temp
// copy of the engine project, makes `dag run` exit 1 with that gate outside its B band while every
// invariant still holds (ENGINE.md, "Realism gates that mean something"). The repository's own
// config passes them all (engine-5A.test.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dagRun, ENGINE_TIMEOUT, engineCopy, entryOf, ledgerOf, removeTemps, runOk, type Project } from './engine-helpers.js';
import { batchesOf, editYaml, type Check } from './gates-6A-support.js';

afterAll(removeTemps);

const DEMAND = 'config/5A/demand_policy.yaml';
const SHAPE = 'config/5A/shape_policy.yaml';
const SCENARIO = 'config/5A/scenario_policy.yaml';

const days = (p: Project, cls: string, weights: number[]) => editYaml(p, SHAPE, (d) => (d.classes[cls].day_weights = weights));
const weekendOf = (p: Project, cls: string, sat: number, sun: number) => editYaml(p, SHAPE, (d) => d.classes[cls].day_weights.splice(5, 2, sat, sun));

interface GateCase {
  gate: string;
  why: string;
  edit(p: Project): void;
  expect(v: number): void;
  /** cases of one batch share a run (see GateCase.batch in gates-6A-support.ts): each edits its own class or dimension */
  batch?: string;
}

const cases: GateCase[] = [
  { gate: 'weekend_share_grocery', batch: 'weekends', why: 'grocers shut at weekends (a Sunday-trading ban taken for a week-long one)', edit: (p) => weekendOf(p, 'grocery', 0.1, 0.05), expect: (v) => expect(v).toBeLessThan(0.27) },
  { gate: 'weekend_share_dining', batch: 'weekends', why: 'restaurants as quiet on Saturday night as on Monday morning: weekends at a tenth', edit: (p) => weekendOf(p, 'dining', 0.1, 0.1), expect: (v) => expect(v).toBeLessThan(0.27) },
  { gate: 'weekend_share_fuel_transport', batch: 'weekends', why: 'fuel shaped like a leisure class: weekends two and a half times a weekday', edit: (p) => weekendOf(p, 'fuel_transport', 2.5, 2.5), expect: (v) => expect(v).toBeGreaterThan(0.32) },
  { gate: 'weekend_share_travel', batch: 'weekends', why: 'travel bookings concentrated on weekends', edit: (p) => weekendOf(p, 'travel', 2.5, 2.5), expect: (v) => expect(v).toBeGreaterThan(0.34) },
  { gate: 'weekend_share_retail_goods', batch: 'weekends', why: 'shops closed on Saturday and Sunday', edit: (p) => weekendOf(p, 'retail_goods', 0.1, 0.1), expect: (v) => expect(v).toBeLessThan(0.27) },
  { gate: 'weekend_share_digital', batch: 'weekends', why: 'online spend treated like office hours: weekends at a fifth', edit: (p) => weekendOf(p, 'digital', 0.2, 0.2), expect: (v) => expect(v).toBeLessThan(0.24) },
  { gate: 'weekend_share_services', batch: 'weekends', why: 'services open seven days like a shop (a flat week)', edit: (p) => days(p, 'services', [1, 1, 1, 1, 1, 1, 1]), expect: (v) => expect(v).toBeGreaterThan(0.24) },
  { gate: 'weekend_share_bills_utilities', batch: 'weekends', why: 'bills paid as often on Sunday as on Monday (no business-day batching)', edit: (p) => days(p, 'bills_utilities', [1, 1, 1, 1, 1, 1, 1]), expect: (v) => expect(v).toBeGreaterThan(0.2) },
  {
    gate: 'night_share',
    batch: 'hours-dispersion-stress',
    why: 'a 24-hour clock: every class at its day level round the clock',
    edit: (p) => editYaml(p, SHAPE, (d) => Object.values(d.classes).forEach((c: any) => (c.open = [0, 24]))),
    expect: (v) => expect(v).toBeGreaterThan(0.1),
  },
  {
    gate: 'top10_tz_share',
    batch: 'hours-dispersion-stress',
    why: 'a merchant dispersion of sigma 3.5: a handful of merchants carry the world, in a few zones',
    edit: (p) => p.edit(DEMAND, /^merchant_sigma: [0-9.]+$/m, 'merchant_sigma: 3.5'),
    expect: (v) => expect(v).toBeGreaterThan(0.72),
  },
  {
    gate: 'stress_window_uplift',
    batch: 'hours-dispersion-stress',
    why: 'a stress scenario whose factors are all 1 (it stresses nothing)',
    edit: (p) => editYaml(p, SCENARIO, (d) => d.scenarios.stress_v1.windows.forEach((w: any) => Object.keys(w.factors).forEach((k) => (w.factors[k] = 1)))),
    expect: (v) => expect(v).toBeLessThan(1.1),
  },
  {
    gate: 'stress_window_uplift',
    why: 'a tenfold surge in every class',
    edit: (p) => editYaml(p, SCENARIO, (d) => d.scenarios.stress_v1.windows.forEach((w: any) => Object.keys(w.factors).forEach((k) => (w.factors[k] = 10)))),
    expect: (v) => expect(v).toBeGreaterThan(2.5),
  },
];

function report5A(runDir: string): { passed: boolean; verdict: string; checks: Check[] } {
  const dir = join(runDir, 'data', 'layer2', '5A', 'validation');
  const [mf] = readdirSync(dir);
  return JSON.parse(readFileSync(join(dir, mf!, 'validation_report_5A.json'), 'utf8'));
}

describe('each 5A realism gate fails on a plausible bad config (dev world, seed 42)', () => {
  const p = engineCopy(['1A', '5A']);
  const files = [DEMAND, SHAPE, SCENARIO];
  const pristine = new Map(files.map((f) => [f, p.read(f)]));
  beforeAll(async () => {
    await runOk(p); // the pristine world passes, and 1A is cached for the cases
  }, ENGINE_TIMEOUT);

  it.each(batchesOf(cases))('%s', async (_name, batch) => {
    for (const [f, text] of pristine) p.write(f, text);
    for (const c of batch) c.edit(p);
    const r = await dagRun(p);
    for (const [f, text] of pristine) p.write(f, text);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const s4 = entryOf(ledgerOf(r.json!.run_dir), '5A.S4');
    expect(s4.action).toBe('ran'); // the state ran to the end: the gate, not an error, failed the run
    expect(s4.gate).toMatchObject({ segment: '5A', passed: false });
    const report = report5A(r.json!.run_dir);
    expect(report.verdict).toBe('HOLD_REMEDIATE');
    for (const x of report.checks.filter((x) => x.kind === 'invariant')) expect(x.status, x.id).toBe('PASS');
    for (const c of batch) {
      const gate = report.checks.find((x) => x.id === c.gate)!;
      expect(gate, `${c.gate} (${c.why})`).toMatchObject({ kind: 'realism', pass_B: false });
      c.expect(gate.value!);
    }
  }, ENGINE_TIMEOUT);

  it('every gate of config/5A/validation_policy.yaml has a case here', () => {
    const gates = Object.keys((parse(p.read('config/5A/validation_policy.yaml')) as { gates: Record<string, unknown> }).gates);
    expect([...new Set(cases.map((c) => c.gate))].sort()).toEqual([...gates].sort());
  });
});
