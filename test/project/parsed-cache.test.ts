// Issue 13, integrity: runs/.cache/parsed/ keeps parsed YAML keyed by the source's digest; an entry
// that was edited or damaged is re-derived from the YAML on disk, never believed.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { YamlSource } from '../../dag/project/yamlsource.js';

afterEach(() => YamlSource.useCache(undefined));

describe('the parsed-YAML cache', () => {
  it('serves an entry only while it matches its source and its own check', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dag-parsed-'));
    YamlSource.useCache(dir);
    const text = 'scope: seed\nvalue: 1\n';
    expect(YamlSource.parse('m.yaml', text).source!.data).toEqual({ scope: 'seed', value: 1 });
    const [name] = readdirSync(dir);
    const entry = JSON.parse(readFileSync(join(dir, name!), 'utf8')) as { data: unknown };
    expect(entry.data).toEqual({ scope: 'seed', value: 1 });
    // served from the cache while whole
    expect(YamlSource.parse('m.yaml', text).source!.data).toEqual({ scope: 'seed', value: 1 });
    // an edited entry overrides nothing
    writeFileSync(join(dir, name!), JSON.stringify({ ...entry, data: { scope: 'world', value: 2 } }));
    expect(YamlSource.parse('m.yaml', text).source!.data).toEqual({ scope: 'seed', value: 1 });
    // nor does a damaged one
    writeFileSync(join(dir, name!), '{"source": "');
    expect(YamlSource.parse('m.yaml', text).source!.data).toEqual({ scope: 'seed', value: 1 });
  });
});
