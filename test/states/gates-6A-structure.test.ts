// 6A gates on holdings, devices and IPs: each fails on a plausible bad config (gates-6A-support.ts).
import { afterAll, beforeAll, describe, it } from 'vitest';
import { ENGINE_TIMEOUT, removeTemps, runOk } from './engine-helpers.js';
import { batchesOf, gateProject, structureCases as cases } from './gates-6A-support.js';

afterAll(removeTemps);

describe('6A structure gates fail where they should', () => {
  const g = gateProject();
  beforeAll(async () => {
    await runOk(g.p); // the pristine world passes, and 1A is cached for the cases
  }, ENGINE_TIMEOUT);
  it.each(batchesOf(cases))('%s', async (_name, batch) => {
    await g.run(batch);
  }, ENGINE_TIMEOUT);
});
