// The PRF lane rules of states/_lib/lanes.md, checked on the kernels' text: no lane built by offset
// arithmetic on a counter, every named lane above 2^32 and distinct, every kernel that draws in the
// registry with the lanes it names.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyOf, mix64, prf2 } from '../../states/_lib/prf.js';
import { REPO } from './engine-helpers.js';

const PRF_CALL = /\b(mix64|prf2|prf3|draw_at)\s*\(/g;

/** The text with its comments blanked (SQL `--`, TypeScript `//` lines and block comments), line numbers kept. */
function withoutComments(text: string, ts: boolean): string {
  const blank = (m: string) => m.replace(/[^\n]/g, ' ');
  let t = text.replace(/--[^\n]*/g, blank);
  if (ts) t = t.replace(/\/\*[\s\S]*?\*\//g, blank).replace(/^\s*\/\/[^\n]*/gm, blank);
  return t;
}

/** The arguments of the call whose '(' is at `open`, split at its top-level commas (strings and brackets respected). */
function callArgs(text: string, open: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'") {
      let end = text.indexOf("'", i + 1);
      while (end >= 0 && text[end + 1] === "'") end = text.indexOf("'", end + 2); // '' is a quote inside the string
      if (end < 0) break;
      i = end;
    } else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) {
      depth--;
      if (depth === 0) {
        args.push(text.slice(start, i));
        return args;
      }
    } else if (c === ',' && depth === 1) {
      args.push(text.slice(start, i));
      start = i + 1;
    }
  }
  return args;
}

/**
 * The operator an argument packs numbers with ('+', '-', '*', '<<' or a single '|'), looked for
 * outside nested calls, strings and template holes; undefined when there is none.
 */
function packing(arg: string): string | undefined {
  let s = arg.replace(/'(?:[^']|'')*'/g, "''").replace(/\$\{[^}]*\}/g, 'x');
  for (let prev = ''; prev !== s; ) {
    prev = s;
    s = s.replace(/\b[A-Za-z_][A-Za-z0-9_]*\s*\([^()]*\)/g, 'f');
  }
  s = s.replace(/[()]/g, ' ');
  return /<<|(?<!\|)\|(?!\|)|[+*]|(?<=[\w\]]\s*)-(?!>)/.exec(s)?.[0];
}

interface Finding {
  file: string;
  line: number;
  call: string;
  arg: string;
  op: string;
}

/** Every PRF call in a text with an argument built by offset arithmetic. */
function offsetLanes(file: string, text: string): Finding[] {
  const code = withoutComments(text, file.endsWith('.ts'));
  const out: Finding[] = [];
  for (const m of code.matchAll(PRF_CALL)) {
    const open = m.index + m[0].length - 1;
    for (const arg of callArgs(code, open)) {
      const op = packing(arg);
      if (op) out.push({ file, line: code.slice(0, m.index).split('\n').length, call: m[1]!, arg: arg.trim(), op });
    }
  }
  return out;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}
const STATES = join(REPO, 'states');
/** Kernels and prelude files (prf.ts is the TypeScript reference of the prelude, not a kernel). */
const SOURCES = filesUnder(STATES)
  .filter((f) => /\.(sql|ts)$/.test(f) && !f.endsWith(`_lib${sep}prf.ts`))
  .map((f) => ({ file: relative(REPO, f).split(sep).join('/'), text: readFileSync(f, 'utf8') }))
  .sort((a, b) => a.file.localeCompare(b.file));

describe('PRF lanes: no offset arithmetic', () => {
  it('the check finds the offset lanes of the past and passes the mixed ones', () => {
    const bad = [
      'mix64(k, 1000 + outlet_seq)',
      'mix64(k, i + 2000)',
      "prf3(getvariable('stream_key'), e.account_id, key_of(e.instrument_type), 100 + e.instrument_seq)",
      'mix64(s, c.cell_no * 64 + t.type_no)',
      'prf2(k, (cell::UBIGINT << 32) | type_no, 1)',
      'mix64(k, (100 + e.seq)::UBIGINT)',
      'draw_at(k, j - 1)',
      "mix64(prf2(getvariable('stream_key'), ${lane('x')}, a.id), 7 * b.n)",
    ];
    const good = [
      "prf2(k, lane('outlet_zone'), p.outlet_seq)",
      'mix64(fk, 13)',
      "prf3(s, key_of(a.ip_type || '/' || a.pool), a.owner_key, key_of('asn'))",
      'mix64(CASE WHEN j::UBIGINT < 1024 THEN k::UBIGINT ELSE mix64(k, j::UBIGINT >> 10) END, j::UBIGINT & 1023::UBIGINT)',
      'floor(u01(mix64(h.sk, 2)) * (total + 1))',
      "mix64(prf3(s, ${lane('victim_card')}, key_of(${sql(c.id)}), b.day_index::UBIGINT), b.burst::UBIGINT)",
      "-- an old comment: mix64(k, 1000 + i)\nmix64(k, lane('a'))",
    ];
    for (const b of bad) expect(offsetLanes('x.sql', b), b).toHaveLength(1);
    for (const g of good) expect(offsetLanes('x.sql', g), g).toEqual([]);
  });

  it('no kernel or prelude file under states/ builds a PRF key by adding, multiplying or shifting', () => {
    expect(SOURCES.length).toBeGreaterThan(30);
    expect(SOURCES.flatMap((s) => offsetLanes(s.file, s.text))).toEqual([]);
  });

  it('why: offset lanes meet once a counter passes the gap between offsets; named lanes do not', () => {
    // 1A's lanes before issue 14: mix64(k, 1000 + outlet_seq) and mix64(k, 2000 + edge_seq)
    const k = 0x9e3779b97f4a7c15n;
    const range = (n: number) => Array.from({ length: n }, (_, i) => BigInt(i));
    const cap = 1500; // a policy cap past the gap of 1000
    const outlets = new Set(range(cap).map((s) => mix64(k, 1000n + s)));
    expect(range(cap).filter((i) => outlets.has(mix64(k, 2000n + i))).length).toBe(cap - 1000);
    const named = new Set(range(cap).map((s) => prf2(k, keyOf('1A.S2/outlet_zone'), s)));
    expect(range(cap).filter((i) => named.has(prf2(k, keyOf('1A.S2/edge_country'), i))).length).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Named lanes and the registry

interface Kernel {
  file: string;
  /** key_of('<prefix>' || name): the kernel's lane() macro, if it defines one. */
  prefix?: string;
  lanes: string[];
  literals: string[];
  draws: boolean;
}

function kernelOf(s: { file: string; text: string }): Kernel {
  const code = withoutComments(s.text, s.file.endsWith('.ts'));
  const prefix = /create (?:or replace )?macro lane\(name\) as key_of\('([^']*)' \|\| name\)/.exec(code)?.[1] ?? /const lane = \(name: string\) => `key_of\('([^'$]*)\$\{name\}'\)`/.exec(code)?.[1];
  return {
    file: s.file,
    prefix,
    lanes: [...new Set([...code.matchAll(/\blane\('([^']+)'\)/g)].map((m) => m[1]!))],
    literals: [...new Set([...code.matchAll(/\bkey_of\('([^']+)'\)/g)].map((m) => m[1]!))],
    draws: [...code.matchAll(PRF_CALL)].length > 0,
  };
}
const KERNELS = SOURCES.map(kernelOf);
const REGISTRY = readFileSync(join(STATES, '_lib', 'lanes.md'), 'utf8');
/** The registry's section of a file: from its `### ` heading to the next heading. */
const sectionOf = (file: string) => REGISTRY.split(/^#{2,3} /m).find((s) => s.split('\n')[0]!.includes(file));

describe('PRF lanes: named lanes and the registry', () => {
  it("reads a kernel's lane() prefix, the lanes it names and its literal keys (not in comments)", () => {
    const k = kernelOf({ file: 'states/9Z/S1_x.sql', text: "create macro lane(name) as key_of('9Z.S1/' || name);\nselect mix64(k, lane('a')), prf2(s, key_of('b'), i) -- lane('c')" });
    expect(k).toEqual({ file: 'states/9Z/S1_x.sql', prefix: '9Z.S1/', lanes: ['a'], literals: ['b'], draws: true });
    const t = kernelOf({ file: 'states/9Z/S2_y.ts', text: "const lane = (name: string) => `key_of('9Z.S2/${name}')`;\nconst q = `select prf2(s, ${lane('r')}, id)`;" });
    expect([t.prefix, t.lanes]).toEqual(['9Z.S2/', ['r']]);
  });

  it("a kernel's lane() is key_of('<seg>.<state>/' || name), its own", () => {
    const withLanes = KERNELS.filter((k) => k.lanes.length > 0);
    expect(withLanes.map((k) => k.file)).toEqual(expect.arrayContaining(['states/1A/S1_merchants.sql', 'states/6A/S2_accounts.sql', 'states/6B/S3_fraud.ts', 'states/6B/S4_labels.sql']));
    for (const k of withLanes) {
      const [, seg, state] = /^states\/([^/]+)\/(S\d+)_/.exec(k.file) ?? [];
      expect(k.prefix, `${k.file} defines lane()`).toBe(`${seg}.${state}/`);
    }
  });

  it('every named lane of a kernel is above 2^32 (no id or counter below it can equal it) and the kernel\'s lanes are distinct', () => {
    let n = 0;
    for (const k of KERNELS) {
      const names = [...k.lanes.map((l) => `${k.prefix}${l}`), ...k.literals];
      const keys = names.map((s) => keyOf(s));
      for (const [i, key] of keys.entries()) expect(key >= 2n ** 32n, `${k.file}: key_of('${names[i]}') = ${key}`).toBe(true);
      expect(new Set(keys).size, k.file).toBe(names.length);
      n += names.length;
    }
    expect(n).toBeGreaterThan(40);
  });

  it('every file that draws has a section in states/_lib/lanes.md naming each of its lanes', () => {
    const drawing = KERNELS.filter((k) => k.draws);
    expect(drawing.length).toBeGreaterThanOrEqual(18);
    for (const k of drawing) {
      const section = sectionOf(k.file);
      expect(section, `${k.file} has a section in states/_lib/lanes.md`).toBeDefined();
      for (const l of k.lanes) expect(section, `${k.file}: lane('${l}') in its section`).toContain(`lane('${l}')`);
    }
  });
});
