import { describe, expect, it } from 'vitest';
import { ContractRegistry } from '../../dag/contracts/registry.js';
import { Diagnostics } from '../../dag/project/diagnostics.js';
import { DIAMOND, FIXTURES } from '../fixtures/materialize.js';

const LAB = FIXTURES + 'registry';

function load(root: string): ContractRegistry {
  const diags = new Diagnostics();
  const reg = ContractRegistry.load(root, diags);
  expect(diags.items).toEqual([]);
  return reg;
}

/** Instance pointers of the errors a validator reports for `doc` (all errors, not the first). */
function errorsOf(reg: ContractRegistry, ref: string, doc: unknown): string[] {
  const validate = reg.validator(ref);
  expect(validate(doc)).toBe(false);
  return [...new Set((validate.errors ?? []).map((e) => e.instancePath))].sort();
}

describe('ContractRegistry: resolving $refs', () => {
  const reg = load(LAB);
  const site = { file: 'states/x/S0.yaml', line: 1 };

  it('loads every contract file, in subfolders too', () => {
    expect(reg.files).toEqual(['contracts/docs.yaml', 'contracts/shared/units.yaml', 'contracts/tables.yaml']);
  });

  it.each(['contracts/docs.yaml#/order', 'contracts/docs.yaml#/nested/batch', 'contracts/docs.yaml#/amounts', 'contracts/docs.yaml#/currency_by_anchor', 'contracts/docs.yaml#amount', 'contracts/shared/units.yaml#/$defs/code_again', 'contracts/tables.yaml#/accounts'])('%s and every $ref it reaches resolve', (ref) => {
    expect(reg.check(ref, site)).toEqual([]);
  });

  it('same-file $defs and cross-file refs: a good document passes, a bad one fails at every bad field', () => {
    const ref = 'contracts/docs.yaml#/order';
    expect(reg.validator(ref)({ code: 'EU', total: 12.5, currency: 'EUR' })).toBe(true);
    expect(errorsOf(reg, ref, { code: 'eu', total: -1, currency: 'GBP' })).toEqual(['/code', '/currency', '/total']);
  });

  it('a sub-schema with its own $id still resolves its file\'s $defs and root pointers', () => {
    const ref = 'contracts/docs.yaml#/nested/batch';
    expect(reg.validator(ref)({ region: 'NA', orders: [{ code: 'EU', total: 1 }] })).toBe(true);
    expect(errorsOf(reg, ref, { region: 'north', orders: [{ code: 'EU', total: 1 }, { code: 'EU', total: -3, extra: 1 }] })).toEqual(['/orders/1', '/orders/1/total', '/region']);
  });

  it('#anchor refs resolve, in the same file and in another', () => {
    expect(reg.resolve('contracts/docs.yaml#amount', undefined)).toMatchObject({ file: 'contracts/docs.yaml', pointer: '/$defs/amount' });
    expect(reg.validator('contracts/docs.yaml#/amounts')([0, 3.5])).toBe(true);
    expect(errorsOf(reg, 'contracts/docs.yaml#/amounts', [1, -2, 'x'])).toEqual(['/1', '/2']);
    expect(reg.validator('contracts/docs.yaml#/currency_by_anchor')('USD')).toBe(true);
    expect(reg.validator('contracts/docs.yaml#/currency_by_anchor')('GBP')).toBe(false);
  });

  it('a relative ref from a subfolder resolves against that subfolder', () => {
    expect(reg.validator('contracts/shared/units.yaml#/$defs/code_again')('EU')).toBe(true);
    expect(reg.validator('contracts/shared/units.yaml#/$defs/code_again')('E')).toBe(false);
  });

  it('says what does not resolve: no file, no pointer, no anchor, no file part', () => {
    expect(reg.resolve('contracts/nope.yaml#/x', undefined)).toEqual({ error: 'no contract file contracts/nope.yaml' });
    expect(reg.resolve('contracts/docs.yaml#/order/properties/nope', undefined)).toEqual({ error: 'contracts/docs.yaml has nothing at /order/properties/nope' });
    expect(reg.resolve('contracts/docs.yaml#money', undefined)).toEqual({ error: "no $anchor 'money' in contracts/docs.yaml" });
    expect('error' in reg.resolve('#/order', undefined)).toBe(true);
    const [d, ...rest] = reg.check('contracts/docs.yaml#/ordr', site);
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ code: 'schema-ref', file: site.file, line: 1 });
  });

  it('the diamond\'s params schema ($id sub-schema, cross-file and same-file refs) validates documents', () => {
    const diamond = load(DIAMOND);
    const ref = 'contracts/fx.yaml#/params';
    expect(diamond.kindOf(ref)).toBe('json');
    expect(diamond.validator(ref)({ customers_per_region: 3, merchants_per_region: 1, amount: { mean: 1, spread: 2 } })).toBe(true);
    expect(errorsOf(diamond, ref, { customers_per_region: 0, merchants_per_region: 2.5, amount: { mean: 0, spread: 2 } })).toEqual(['/amount/mean', '/customers_per_region', '/merchants_per_region']);
  });
});

describe('ContractRegistry: table schemas', () => {
  const reg = load(LAB);

  it('parses a table whose columns come from cross-file $refs, siblings overriding the target', () => {
    expect(reg.kindOf('contracts/tables.yaml#/accounts')).toBe('table');
    const t = reg.table('contracts/tables.yaml#/accounts');
    expect(t.columns).toEqual({
      account_id: { type: 'uint64', nullable: false, description: 'sequential id, from 1' },
      price: { type: 'double', nullable: true, minimum: 0 },
      currency: { type: 'string', nullable: false, enum: ['EUR', 'USD'] },
    });
    expect(t.primary_key).toEqual(['account_id']);
  });

  it('parses the diamond\'s tables, whose id columns live in common.yaml', () => {
    const diamond = load(DIAMOND);
    expect(diamond.table('contracts/fx.yaml#/tables/regions').columns.region_id).toEqual({ type: 'uint64', nullable: false, description: 'sequential id, from 1' });
    expect(diamond.table('contracts/fx.yaml#/tables/regions').unique).toEqual([['code']]);
  });

  it('a $ref cycle in a table schema does not hang', () => {
    const started = Date.now();
    let outcome: unknown;
    try {
      outcome = reg.check('contracts/tables.yaml#/looping', { file: 'states/x/S0.yaml' });
    } catch (err) {
      outcome = err;
    }
    expect(outcome).toBeDefined();
    expect(Date.now() - started).toBeLessThan(2000);
  });


  // `dag validate` prints "internal error" and exits 1 instead of a located diagnostic with exit 2.
  // Once fixed this test fails: make it a plain `it`.
  it('a $ref cycle in a table schema is a diagnostic, not an exception', () => {
    const problems = reg.check('contracts/tables.yaml#/looping', { file: 'states/x/S0.yaml' });
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]!.file).toBe('contracts/tables.yaml');
  });
});
