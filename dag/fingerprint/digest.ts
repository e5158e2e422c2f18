import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { YamlSource, yamlLibrary } from '../project/yamlsource.js';
import { canonicalJson, sha256Hex, type Sha256Hex } from '../project/canonical.js';
import { FileMemo } from '../project/filememo.js';

/** sha256 of a file's bytes, streamed. */
export async function fileSha256(absPath: string): Promise<Sha256Hex> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(absPath, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex') as Sha256Hex;
}

export function isStructuredFile(file: string): boolean {
  return /\.(ya?ml|json)$/i.test(file);
}

/**
 * The content digest of a project file: YAML and JSON files are hashed over their canonical JSON
 * form, so comments and formatting are not changes; every other file over its bytes.
 */
export function contentDigest(absPath: string, file: string): Sha256Hex {
  return readContent(absPath, file).digest;
}

/** The content digest and, for YAML/JSON files, the canonical JSON it was taken over (one read, one parse). */
export function readContent(absPath: string, file: string): { digest: Sha256Hex; canonical?: string } {
  // a kernel or a CSV: its byte digest, remembered by its stat
  if (!isStructuredFile(file)) return { digest: FileMemo.digest(absPath).digest };
  const bytes = readFileSync(absPath);
  // through the parsed-file cache: an unchanged document is not parsed again (a broken one throws
  // the parser's error, as before)
  const text = bytes.toString('utf8');
  const { source } = YamlSource.parse(file, text);
  const canonical = canonicalJson(source ? source.data : yamlLibrary().parse(text));
  return { digest: sha256Hex(canonical), canonical };
}
