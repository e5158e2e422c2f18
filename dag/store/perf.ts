import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { latestOutcomes, type LedgerEntry } from './runs.js';

/**
 * `reports/perf.json`: each task's latest outcome, its seconds and steps, against the state's
 * budget (`budgetOf`), so a slow state is found without reading the ledger.
 */
export function writePerf(runDir: string, runId: string, ledger: LedgerEntry[], budgetOf: (state: string) => number | undefined): void {
  const states = [...latestOutcomes(ledger).values()].map((e) => {
    const budget = budgetOf(e.state);
    return { state: e.state, scenario: e.scenario, action: e.action, seconds: e.seconds, budget_seconds: budget ?? null, over_budget: budget !== undefined && e.action === 'ran' ? e.seconds > budget : false, steps: e.steps ?? [] };
  });
  mkdirSync(join(runDir, 'reports'), { recursive: true });
  writeFileSync(join(runDir, 'reports', 'perf.json'), JSON.stringify({ run_id: runId, states }, null, 2) + '\n');
}
