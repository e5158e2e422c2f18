import { describe, expect, it } from 'vitest';
import { splitStatements, splitSteps } from '../../dag/exec/steps.js';

describe('kernel scripts', () => {
  it('split into steps at -- step: lines, knowing where each step and its SQL start', () => {
    const steps = splitSteps('create table a as select 1;\n-- step: two\ncreate table b as select 2;\n\n-- step: three\nselect 3;\n');
    expect(steps.map((s) => [s.name, s.line, s.sqlLine])).toEqual([
      ['kernel', 1, 1],
      ['two', 2, 3],
      ['three', 5, 6],
    ]);
  });

  it('split into statements at semicolons outside strings and comments, with each statement line', () => {
    const sql = [
      "create table a as select ';' as s; -- a comment; with a semicolon",
      '',
      '/* block; comment',
      '   on two lines; */ create table b as',
      "select 'it''s; fine' as t, \"weird;name\" as u;",
      'select $$dollar; quoted$$ as d;',
      '   ',
    ].join('\n');
    const st = splitStatements(sql, 10);
    expect(st.map((s) => s.line)).toEqual([10, 10, 15]); // the second starts with the comment left on line 10
    expect(st[0]!.sql).toBe("create table a as select ';' as s");
    expect(st[1]!.sql.startsWith('-- a comment; with a semicolon')).toBe(true);
    expect(st[1]!.sql).toContain("'it''s; fine'");
    expect(st[2]!.sql).toBe('select $$dollar; quoted$$ as d');
  });
});
