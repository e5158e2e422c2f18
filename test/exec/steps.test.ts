import { describe, expect, it } from 'vitest';
import { splitStatements, splitSteps } from '../../dag/exec/steps.js';
import { dag, diamondCopy } from './harness.js';

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

describe('statements DuckDB accepts that a hand splitter breaks (issue 14)', () => {
  it("knows tagged dollar quotes and E'' strings with backslash escapes", () => {
    const sql = ["select $tag$a;b$tag$ as t;", "select E'it\\'s; fine' as e;", 'select $$x;y$$ as d, $1 as p;', 'select 4;'].join('\n');
    const st = splitStatements(sql, 1);
    expect(st.map((s) => [s.line, s.sql])).toEqual([
      [1, 'select $tag$a;b$tag$ as t'],
      [2, "select E'it\\'s; fine' as e"],
      [3, 'select $$x;y$$ as d, $1 as p'],
      [4, 'select 4'],
    ]);
  });

  it("a kernel with $tag$a;b$tag$ and E'it\\'s; fine' runs, and an error after them names its line of the kernel file", async () => {
    // (and two statements that name a window alike, which DuckDB's own multi-statement parser refuses)
    const extra = ["create table tagged as select $tag$a;b$tag$ as t, sum(1) over w as n from range(1) window w as ();", "create table escaped as select E'it\\'s; fine' as e, sum(1) over w as n from range(1) window w as ();", ''].join('\n');
    const good = diamondCopy(({ read, write }) => write('states/fx/S2_merchants.sql', read('states/fx/S2_merchants.sql').replace('-- step: draw\n', `-- step: draw\n${extra}`)));
    const ok = await dag(good, ['run', 'fx.S2']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    // line 4 of the kernel: after the marker (1) and the two statements (2, 3)
    const bad = diamondCopy(({ read, write }) => write('states/fx/S2_merchants.sql', read('states/fx/S2_merchants.sql').replace('-- step: draw\n', `-- step: draw\n${extra}select nosuchcol from range(3);\n`)));
    const r = await dag(bad, ['run', 'fx.S2']);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain("SQL error in step 'draw' at S2_merchants.sql:4:");
    expect(r.stdout + r.stderr).toContain('nosuchcol');
  }, 60_000);
});
