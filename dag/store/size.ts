import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Bytes on disk under `path`, counting each inode once (hard links share their blocks). */
export function diskUsage(path: string, seen = new Set<string>()): number {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return 0;
  }
  const id = `${st.dev}:${st.ino}`;
  if (seen.has(id)) return 0;
  seen.add(id);
  let total = st.blocks * 512;
  if (st.isDirectory()) for (const name of readdirSync(path)) total += diskUsage(join(path, name), seen);
  return total;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
