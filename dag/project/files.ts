import { readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { DagError } from './diagnostics.js';

/**
 * Files below `dir` (absolute) whose names end with one of `exts`, as root-relative POSIX paths,
 * sorted. A symlink is followed when it resolves inside the project (a symlinked manifest counts as
 * the file it names); one that resolves outside, or nowhere, is an error naming it. `regular`
 * collects every plain file seen, whatever its name.
 */
export function listFiles(root: string, dir: string, exts: readonly string[], regular?: Set<string>): string[] {
  const out: string[] = [];
  const realRoot = realpathSync(root);
  const seen = new Set<string>();
  const walk = (abs: string, rel: string) => {
    let entries;
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = join(abs, e.name);
      const relPath = rel + e.name; // root-relative, POSIX
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        const target = insideProject(realRoot, p, relPath);
        const st = statSync(target);
        isDir = st.isDirectory();
        isFile = st.isFile();
        if (isDir && seen.has(target)) continue; // a link back up the tree
        if (isDir) seen.add(target);
      }
      if (isDir) walk(p, relPath + '/');
      else if (isFile) {
        // `regular`: every plain (not linked) file seen on the way, so a compiler asking whether
        // a kernel beside its manifest exists need not stat it again
        if (regular && !e.isSymbolicLink()) regular.add(relPath);
        if (exts.some((x) => e.name.endsWith(x))) out.push(relPath);
      }
    }
  };
  walk(join(root, dir), toPosix(dir).replace(/\/*$/, '/'));
  return out.sort();
}

/** The real path of `abs`, which must lie inside the project; else an error naming `file`. */
export function insideProject(realRoot: string, abs: string, file: string): string {
  let target: string;
  try {
    target = realpathSync(abs);
  } catch {
    throw new DagError([{ code: 'symlink', file, message: `the symlink ${file} points nowhere`, fix: 'remove it or point it at a file inside the project' }]);
  }
  if (target !== realRoot && !target.startsWith(realRoot + sep)) {
    throw new DagError([{ code: 'symlink-outside', file, message: `${file} is a symlink to '${target}', outside the project: a run reads only the project's own files`, fix: 'copy the file into the project instead of linking it' }]);
  }
  return target;
}

export function toPosix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}
