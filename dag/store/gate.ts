import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileSha256 } from '../fingerprint/digest.js';
import { toPosix } from '../project/files.js';

/** HashGates (ORCHESTRATOR.md §5a): the bundle index, the `_passed.flag` digest, verification. */
export const FLAG = '_passed.flag';

export interface BundleIndex {
  files: { path: string; sha256: string; size: number }[];
}

/** Bundle files (relative, ASCII order), every file under `dir` except `exclude`. */
export function bundleFiles(dir: string, exclude: string[]): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(toPosix(relative(dir, p)));
    }
  };
  walk(dir);
  return out.filter((f) => !exclude.includes(f)).sort(asciiCompare);
}

export function asciiCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export async function buildIndex(dir: string, indexName: string): Promise<BundleIndex> {
  const files = [];
  for (const f of bundleFiles(dir, [indexName, FLAG])) {
    files.push({ path: f, sha256: await fileSha256(join(dir, f)), size: statSync(join(dir, f)).size });
  }
  return { files };
}

/** sha256 over the bytes of every bundle file except the flag, concatenated in ASCII path order. */
export async function bundleDigest(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const f of bundleFiles(dir, [FLAG])) {
    for await (const chunk of createReadStream(join(dir, f))) hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

export function flagText(digest: string): string {
  return `sha256_hex = ${digest}\n`;
}

/**
 * Seals the gate bundle in `dir`: its index always, and the flag over the bundle's digest only on
 * a passing verdict. Returns the files it wrote (bundle-relative) and the digest.
 */
export async function sealBundle(dir: string, indexName: string, passed: boolean): Promise<{ files: string[]; digest?: string }> {
  const index = await buildIndex(dir, indexName);
  writeFileSync(join(dir, indexName), JSON.stringify(index, null, 2) + '\n');
  if (!passed) return { files: [indexName] };
  const digest = await bundleDigest(dir);
  writeFileSync(join(dir, FLAG), flagText(digest));
  return { files: [indexName, FLAG], digest };
}

export interface GateCheck {
  ok: boolean;
  digest?: string;
  files: BundleIndex['files'];
  /** What did not match, naming the file. */
  problem?: string;
}

/** Verifies a sealed bundle: the flag exists, its digest recomputes, the index matches the files. */
export async function verifyBundle(dir: string, indexName: string): Promise<GateCheck> {
  const flagPath = join(dir, FLAG);
  const indexPath = join(dir, indexName);
  if (!existsSync(dir)) return { ok: false, files: [], problem: `bundle folder ${dir} does not exist` };
  if (!existsSync(flagPath)) return { ok: false, files: [], problem: `no ${FLAG} in ${dir}: the gate did not pass` };
  if (!existsSync(indexPath)) return { ok: false, files: [], problem: `bundle index ${indexName} is missing from ${dir}` };
  let index: BundleIndex;
  try {
    index = JSON.parse(readFileSync(indexPath, 'utf8')) as BundleIndex;
    if (!Array.isArray(index.files)) throw new Error('it has no files list');
  } catch (e) {
    return { ok: false, files: [], problem: `bundle index ${indexName} in ${dir} is not a valid index (changed after sealing?): ${(e as Error).message}` };
  }
  const present = bundleFiles(dir, [indexName, FLAG]);
  const listed = index.files.map((f) => f.path);
  const extra = present.filter((f) => !listed.includes(f));
  const missing = listed.filter((f) => !present.includes(f));
  if (extra.length) return { ok: false, files: index.files, problem: `file ${extra[0]} is in ${dir} but not in ${indexName}` };
  if (missing.length) return { ok: false, files: index.files, problem: `file ${missing[0]} is listed in ${indexName} but missing from ${dir}` };
  for (const f of index.files) {
    const actual = await fileSha256(join(dir, f.path));
    if (actual !== f.sha256) return { ok: false, files: index.files, problem: `file ${f.path} changed after sealing: sha256 ${actual} != ${f.sha256} in ${indexName}` };
  }
  const m = /^sha256_hex = ([0-9a-f]{64})\s*$/.exec(readFileSync(flagPath, 'utf8'));
  if (!m) return { ok: false, files: index.files, problem: `${FLAG} in ${dir} is malformed` };
  const digest = await bundleDigest(dir);
  if (digest !== m[1]) return { ok: false, files: index.files, problem: `${FLAG} digest ${m[1]} does not match the bundle (recomputed ${digest}); every indexed file matches, so ${indexName} or ${FLAG} changed after sealing` };
  return { ok: true, digest, files: index.files };
}
