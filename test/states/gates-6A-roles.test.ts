// 6A gates on fraud roles and their signal: each fails on a plausible bad config (gates-6A-support.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_TIMEOUT, REPO, removeTemps, runOk } from './engine-helpers.js';
import { batchesOf, ELSEWHERE, gateProject, roleCases, structureCases, roleCases as cases } from './gates-6A-support.js';

afterAll(removeTemps);

describe('6A role gates fail where they should', () => {
  const g = gateProject();
  beforeAll(async () => {
    await runOk(g.p);
  }, ENGINE_TIMEOUT);
  it.each(batchesOf(cases))('%s', async (_name, batch) => {
    await g.run(batch);
  }, ENGINE_TIMEOUT);
});

it('every gate of config/6A/validation_policy.yaml has a failing-config case (or is measured elsewhere)', () => {
  const policy = parse(readFileSync(join(REPO, 'config/6A/validation_policy.yaml'), 'utf8')) as { gates: Record<string, unknown> };
  const covered = new Set([...structureCases, ...roleCases].map((c) => c.gate).concat(Object.keys(ELSEWHERE)));
  expect(Object.keys(policy.gates).filter((g) => !covered.has(g))).toEqual([]);
});
