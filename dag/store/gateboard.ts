import { readReport, type Band } from './certify.js';

/** One gate of a run's validation report, as the dashboard's gateboard shows it. */
export interface GateRow {
  gate: string;
  kind: string;
  /** As the report graded it: PASS, WARN, FAIL, PENDING. */
  status: string;
  value: number | null;
  band_b: Band;
  band_bplus: Band;
  /** Inside B (PASS or WARN); null while the gate is pending. */
  pass: boolean | null;
}

/** A validation report of a run, its own verdict, and its gates. */
export interface Gateboard {
  /** The report's name (`validation_report_x`, `@scenario` for scenario-scoped states). */
  report: string;
  segment: string | null;
  verdict: string | null;
  passed: boolean | null;
  gates: GateRow[];
}

/**
 * The gateboard of every validation report a run published (reportsOfRun), in report-name order:
 * read with the certification's reader, so both see the same gates, values and bands.
 */
export function gateboardsOf(reports: Map<string, unknown>): Gateboard[] {
  return [...reports]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([report, doc]) => {
      const r = readReport(doc);
      const raw = doc !== null && typeof doc === 'object' ? (doc as Record<string, unknown>) : {};
      return {
        report,
        segment: r.segment,
        verdict: typeof raw.verdict === 'string' ? raw.verdict : null,
        passed: typeof raw.passed === 'boolean' ? raw.passed : null,
        gates: r.checks.map((c) => ({ gate: c.id, kind: c.kind, status: c.status, value: c.value, band_b: c.threshold_B, band_bplus: c.threshold_Bplus, pass: c.status === 'PENDING' || c.status === 'MISSING' ? null : c.status !== 'FAIL' })),
      };
    });
}
