#!/usr/bin/env node
// Adds to package-lock.json the optional, platform-specific packages that `npm install` leaves
// out on this machine (it records only the packages for the platform it runs on), so that
// `npm ci` accepts the lock file on a fresh clone. The entries are marked optional with their
// os/cpu/libc, so npm ci skips them on other platforms and never downloads them here.
// Run after any dependency change: npm install && node tools/lockfile-platforms.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const lockPath = join(process.cwd(), 'package-lock.json');
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const packages = lock.packages;

/** os, cpu and libc of a platform package, read from its name (e.g. @rollup/rollup-linux-arm64-musl). */
function platformOf(name) {
  const tail = name.split('/').pop();
  const os = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openbsd', 'netbsd', 'sunos', 'aix', 'openharmony'].find((o) => tail.includes(`-${o}`) || tail.startsWith(`${o}-`));
  const cpu = ['arm64', 'x64', 'ia32', 'arm', 'loong64', 'ppc64', 'riscv64', 's390x', 'mips64el'].find((c) => new RegExp(`(^|-)${c}(-|$)`).test(tail));
  const libc = /-musl(-|$)/.test(tail) ? 'musl' : /-gnu(eabihf)?(-|$)/.test(tail) && os === 'linux' ? 'glibc' : undefined;
  return { os, cpu: cpu === 'arm' && /gnueabihf|musleabihf|eabi/.test(tail) ? 'arm' : cpu, libc };
}

let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = `${path ? path + '/' : ''}node_modules/${dep}`;
    const top = `node_modules/${dep}`;
    if (packages[nested] || packages[top]) continue;
    const { os, cpu, libc } = platformOf(dep);
    if (!os || !cpu) continue; // not a platform package: leave it to npm
    packages[top] = { version, cpu: [cpu], license: entry.license, optional: true, os: [os], ...(libc ? { libc: [libc] } : {}) };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
writeFileSync(lockPath, JSON.stringify(lock, null, 2) + '\n');
console.log(`added ${added} platform package entries to package-lock.json`);
