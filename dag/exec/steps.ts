/** A SQL kernel split at its `-- step: <name>` lines. */
export interface SqlStep {
  name: string;
  sql: string;
  /** 1-based line of the step's marker (or 1) in the kernel file. */
  line: number;
  /** 1-based line of the first line of `sql` in the kernel file. */
  sqlLine: number;
}

const STEP_LINE = /^\s*--\s*step:\s*(\S.*?)\s*$/;

export function splitSteps(script: string): SqlStep[] {
  const steps: SqlStep[] = [];
  let current: SqlStep = { name: 'kernel', sql: '', line: 1, sqlLine: 1 };
  script.split('\n').forEach((text, i) => {
    const m = STEP_LINE.exec(text);
    if (m) {
      if (current.sql.trim() !== '') steps.push(current);
      current = { name: m[1]!, sql: '', line: i + 1, sqlLine: i + 2 };
    } else current.sql += text + '\n';
  });
  if (current.sql.trim() !== '') steps.push(current);
  return steps;
}

/** One SQL statement of a step, with the 1-based line (in the kernel file) where it starts. */
export interface SqlStatement {
  sql: string;
  line: number;
}

/**
 * Splits a step into statements at semicolons outside strings (single, double, `E'...'` with
 * backslash escapes, and dollar quoted, `$$...$$` or `$tag$...$tag$`) and comments (line and
 * block), keeping the line each statement starts on, so that an error can name the exact line of
 * the kernel file. Not DuckDB's `extractStatements`: DuckDB 1.5's parser rejects a text in which
 * two statements define a window of the same name. Leading white space is dropped from each statement.
 */
export function splitStatements(sql: string, firstLine: number): SqlStatement[] {
  const out: SqlStatement[] = [];
  let start = 0;
  let line = firstLine;
  let startLine: number | undefined;
  let i = 0;
  const push = (end: number) => {
    const text = sql.slice(start, end).trimStart();
    if (text.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, '').trim() !== '') out.push({ sql: text, line: startLine ?? line });
    start = end + 1;
    startLine = undefined;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (startLine === undefined && !/\s/.test(c)) startLine = line;
    if (c === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
      continue;
    }
    // a dollar quote opens with $$ or $tag$ (a tag is an identifier not starting with a digit; $1 is a parameter)
    const dollar = c === '$' ? /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 66)) : null;
    const closer = c === '/' && sql[i + 1] === '*' ? '*/' : dollar ? dollar[0] : undefined;
    if (closer) {
      // a block comment or a dollar-quoted string: skip to its end, counting the lines it spans
      const end = sql.indexOf(closer, i + closer.length);
      const stop = end < 0 ? sql.length : end + closer.length;
      line += (sql.slice(i, stop).match(/\n/g) ?? []).length;
      i = stop;
      continue;
    }
    if (c === "'" && /[eE]/.test(sql[i - 1] ?? '') && !/[A-Za-z0-9_]/.test(sql[i - 2] ?? '')) {
      // E'...': a backslash escapes the next character (E'it\'s'), and '' is a quote too
      let j = i + 1;
      while (j < sql.length && !(sql[j] === "'" && sql[j + 1] !== "'")) j += sql[j] === '\\' || sql[j] === "'" ? 2 : 1;
      line += (sql.slice(i, j + 1).match(/\n/g) ?? []).length;
      i = j + 1;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < sql.length && !(sql[j] === c && sql[j + 1] !== c)) j += sql[j] === c ? 2 : 1;
      line += (sql.slice(i, j + 1).match(/\n/g) ?? []).length;
      i = j + 1;
      continue;
    }
    if (c === ';') push(i);
    i++;
  }
  push(sql.length);
  return out;
}
