import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateDocument, validateDocumentInputs, variantsOf } from '../../dag/graph/inputs.js';
import { Diagnostics } from '../../dag/project/diagnostics.js';
import { TempCopies } from '../fixtures/materialize.js';
import { compileClean } from '../graph/diagnose.js';

const PARAMS = 'contracts/fx.yaml#/params';
const temp = new TempCopies();
const dir = temp.copy();
afterAll(temp.removeAll);
const cp = compileClean(dir);

function check(text: string) {
  writeFileSync(join(dir, 'config/params.yaml'), text);
  return validateDocument(cp, 'config/params.yaml', PARAMS);
}

describe('schema-bound input files', () => {
  it('accepts the diamond\'s params', () => {
    writeFileSync(join(dir, 'config/params.yaml'), 'customers_per_region: 50\nmerchants_per_region: 5\namount:\n  mean: 40.0\n  spread: 20.0\n');
    const diags = new Diagnostics();
    validateDocumentInputs(cp, diags);
    expect(diags.items).toEqual([]);
  });

  it('reports a value out of range with its file, line and pointer', () => {
    const [d, ...rest] = check('# comment\ncustomers_per_region: -5\nmerchants_per_region: 5\namount: { mean: 1, spread: 1 }\n');
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ code: 'input-schema', file: 'config/params.yaml', line: 2, pointer: '/customers_per_region' });
    expect(d!.message).toContain('must be >= 1');
  });

  it('reports every error at once, nested ones at their own line', () => {
    const got = check('customers_per_region: 1\nmerchants_per_region: 0\namount:\n  mean: 1\n  spread: -2\n  skew: 3\n').map((d) => `${d.line} ${d.pointer}`);
    // the unknown key `skew` at its own line, not at its parent's
    expect(got.sort()).toEqual(['2 /merchants_per_region', '6 /amount/skew', '5 /amount/spread'].sort());
  });

  it('names a missing key by its pointer and an unknown key by name', () => {
    const ds = check('customers_per_region: 1\nmerchants_per_region: 1\namount:\n  mean: 1\n  sprad: 2\n');
    const missing = ds.find((d) => d.pointer === '/amount/spread')!;
    expect(missing.line).toBe(3);
    expect(missing.message).toContain("must have required property 'spread'");
    const unknown = ds.find((d) => d.message.includes("'sprad'"))!;
    expect(unknown.pointer).toBe('/amount/sprad');
    expect(unknown.line).toBe(5);
  });

  it('reports YAML syntax in an input file as yaml-syntax', () => {
    const [d] = check('customers_per_region: [1\n');
    expect(d).toMatchObject({ code: 'yaml-syntax', file: 'config/params.yaml' });
  });

  it('validates each profile\'s alternate of a file against the same schema', () => {
    expect(variantsOf(cp, 'config/params.yaml')).toEqual(['config/params.yaml', 'config/params.big.yaml']);
    expect(variantsOf(cp, 'config/regions.csv')).toEqual(['config/regions.csv']);
    writeFileSync(join(dir, 'config/params.yaml'), 'customers_per_region: 50\nmerchants_per_region: 5\namount:\n  mean: 40.0\n  spread: 20.0\n');
    writeFileSync(join(dir, 'config/params.big.yaml'), 'customers_per_region: 500\nmerchants_per_region: 20\namount:\n  mean: 40.0\n  spread: 0\n');
    const diags = new Diagnostics();
    validateDocumentInputs(cp, diags);
    expect(diags.items).toEqual([expect.objectContaining({ code: 'input-schema', file: 'config/params.big.yaml', line: 5, pointer: '/amount/spread' })]);
  });
});
