import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** Files below `dir` (absolute) whose names end with one of `exts`, as root-relative POSIX paths, sorted. */
export function listFiles(root: string, dir: string, exts: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (abs: string) => {
    let entries;
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = join(abs, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && exts.some((x) => e.name.endsWith(x))) out.push(toPosix(relative(root, p)));
    }
  };
  walk(join(root, dir));
  return out.sort();
}

export function toPosix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}
