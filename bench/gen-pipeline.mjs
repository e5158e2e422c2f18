#!/usr/bin/env node
// Writes a synthetic dag project of N states: a long chain, hubs that fan out, and states that
// fan in. Usage: node bench/gen-pipeline.mjs N DIR [--rows R] [--big-mb MB]
// --big-mb makes the first state write about MB of incompressible Parquet (for --from staging).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { id, upstreams } from './graph.mjs';
import { arg } from './cli.mjs';

const args = process.argv.slice(2);
const positional = args.filter((a, i) => !a.startsWith('--') && !(args[i - 1] ?? '').startsWith('--'));
const [n = '100', dir = '/tmp/bench-pipeline'] = positional;
const flag = (name, dflt) => Number(arg(name, dflt));
const N = Number(n);
const rows = flag('--rows', 100);
const bigMb = flag('--big-mb', 0);

rmSync(dir, { recursive: true, force: true });
mkdirSync(join(dir, 'states', 'b'), { recursive: true });
mkdirSync(join(dir, 'contracts'), { recursive: true });
mkdirSync(join(dir, 'config'), { recursive: true });
writeFileSync(join(dir, 'dag.yaml'), `name: bench-${N}\nduckdb:\n  threads: 2\n  memory_limit: 4GB\n`);
writeFileSync(join(dir, 'config', 'params.yaml'), `rows: ${rows}\n`);
writeFileSync(
  join(dir, 'contracts', 'bench.yaml'),
  `params:\n  type: object\n  required: [rows]\n  properties:\n    rows: { type: integer, minimum: 1 }\nrow:\n  type: table\n  columns:\n    id: { type: uint64 }\n    v: { type: uint64 }\n  primary_key: [id]\nbig:\n  type: table\n  columns:\n    id: { type: uint64 }\n    h: { type: string }\n  primary_key: [id]\n`,
);

for (let i = 0; i < N; i++) {
  const ups = upstreams(i);
  const big = bigMb > 0 && i === 0;
  const inputs = ups.map((u) => `  - dataset: d_${id(u)}`).join('\n');
  const manifest = `id: b.${id(i)}
kernel: ${id(i)}.sql
inputs:
  - file: config/params.yaml
    as: params
    schema: contracts/bench.yaml#/params
${inputs}
outputs:
  - dataset: d_${id(i)}
    format: parquet
    path: data/b/${id(i)}/seed={seed}
    schema: contracts/bench.yaml#/${big ? 'big' : 'row'}
    order_by: [id]
`;
  writeFileSync(join(dir, 'states', 'b', `${id(i)}.yaml`), manifest);
  let sql;
  if (big) {
    const bigRows = Math.round((bigMb * 1024 * 1024) / 40);
    sql = `-- step: big\ncreate table d_${id(i)} as select range::UBIGINT as id, md5(range::VARCHAR || getvariable('seed')::VARCHAR) as h from range(${bigRows});\n`;
  } else {
    const sum = ups.length ? ` + (${ups.map((u) => `(select count(*) from d_${id(u)})`).join(' + ')})::UBIGINT` : '';
    sql = `-- step: make\ncreate table d_${id(i)} as select range::UBIGINT as id, (range * ${i + 1})::UBIGINT${sum} as v from range(json_extract(getvariable('params'), '$.rows')::BIGINT);\n`;
  }
  writeFileSync(join(dir, 'states', 'b', `${id(i)}.sql`), sql);
}
console.log(`wrote ${N} states to ${dir}`);
