/** A SQL kernel split at its `-- step: <name>` lines. */
export interface SqlStep {
  name: string;
  sql: string;
  /** 1-based line of the step's first line in the kernel file. */
  line: number;
}

const STEP_LINE = /^\s*--\s*step:\s*(\S.*?)\s*$/;

export function splitSteps(script: string): SqlStep[] {
  const steps: SqlStep[] = [];
  let current: SqlStep = { name: 'kernel', sql: '', line: 1 };
  script.split('\n').forEach((text, i) => {
    const m = STEP_LINE.exec(text);
    if (m) {
      if (current.sql.trim() !== '') steps.push(current);
      current = { name: m[1]!, sql: '', line: i + 1 };
    } else current.sql += text + '\n';
  });
  if (current.sql.trim() !== '') steps.push(current);
  return steps;
}
