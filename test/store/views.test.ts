// Views a manifest declares for `dag query` (`views:`): defined over a run that published the
// state's outputs, left out of the state's cache key, refused when they shadow a dataset or repeat.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dag, diamondCopy, ledgerOf, onlyRun } from '../exec/harness.js';

const T = 60_000;
const VIEWS = `views:
  - name: rich_customers_fx
    description: customers above the median score
    sql: select * from customers_fx where score > (select median(score) from customers_fx)
`;

describe('declared query views', () => {
  it('`dag query` defines them over the run, and editing one reruns nothing', async () => {
    const p = diamondCopy((c) => c.write('states/fx/S1_customers.yaml', c.read('states/fx/S1_customers.yaml') + VIEWS));
    const first = await dag(p, ['run']);
    expect(first.code, first.stderr).toBe(0);
    const { id } = onlyRun(p);
    const q = await dag(p, ['query', id, 'select (select count(*) from rich_customers_fx) rich, (select count(*) from customers_fx) n', '--json']);
    expect(q.code, q.stderr).toBe(0);
    const [row] = JSON.parse(q.stdout) as { rich: number; n: number }[];
    expect(Number(row!.n)).toBe(200);
    expect(Number(row!.rich)).toBe(100);
    // a view describes how to read the outputs, not how they are made: the cache still serves them
    const manifest = join(p.root, 'states/fx/S1_customers.yaml');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('score > (select median(score)', 'score >= (select median(score)'));
    const second = await dag(p, ['run', '--json']);
    expect(second.code, second.stderr).toBe(0);
    const runId = (JSON.parse(second.stdout) as { run_id: string }).run_id;
    const ran = ledgerOf(join(p.runsDir, runId)).filter((e) => e.action === 'ran');
    expect(ran).toEqual([]);
  }, T);

  it('a view with a dataset name or a name declared twice fails validate with exit 2, naming the file and pointer', async () => {
    const shadow = diamondCopy((c) => c.write('states/fx/S1_customers.yaml', c.read('states/fx/S1_customers.yaml') + VIEWS.replace('rich_customers_fx', 'regions_fx')));
    const a = await dag(shadow, ['validate']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/states\/fx\/S1_customers\.yaml/);
    expect(a.stderr).toMatch(/\/views\/0\/name/);
    expect(a.stderr).toMatch(/view 'regions_fx' has the name of a dataset fx\.S0 writes/);
    const twice = diamondCopy((c) => {
      c.write('states/fx/S1_customers.yaml', c.read('states/fx/S1_customers.yaml') + VIEWS);
      c.write('states/fx/S3_pairs.yaml', c.read('states/fx/S3_pairs.yaml') + VIEWS);
    });
    const b = await dag(twice, ['validate']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/view 'rich_customers_fx' is also declared by fx\.S1/);
  }, T);

  it('a view whose SQL does not build names its manifest, pointer and the error', async () => {
    const p = diamondCopy((c) => c.write('states/fx/S1_customers.yaml', c.read('states/fx/S1_customers.yaml') + VIEWS.replace('where score >', 'where no_such_column >')));
    expect((await dag(p, ['run'])).code).toBe(0);
    const { id } = onlyRun(p);
    const q = await dag(p, ['query', id, 'select 1']);
    expect(q.code).toBe(2);
    expect(q.stderr).toMatch(/states\/fx\/S1_customers\.yaml/);
    expect(q.stderr).toMatch(/\/views\/0\/sql/);
    expect(q.stderr).toMatch(/no_such_column/);
    expect(q.stderr).not.toMatch(/\n\s+at /); // no stack trace
  }, T);
});
