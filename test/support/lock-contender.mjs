// One contender of the lock race (test/store/lock.test.ts): for round r = 0..rounds-1 it waits for
// <base>/go-r, then tries the lock of <base>/run-r at once and writes <base>/run-r/result-<pid>
// ("held" or "refused"); it never releases, as a run killed holding its lock would not. It stays
// alive until <base>/done exists: a holder that exited would be a dead holder, whose lock a late
// contender of the same round rightly takes over (that made the last round show two holders).
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const [, , lockModule, base, rounds] = process.argv;
const { acquireLock } = await import(lockModule);
writeFileSync(join(base, `ready-${process.pid}`), '');
for (let r = 0; r < Number(rounds); r++) {
  while (!existsSync(join(base, `go-${r}`))) await new Promise((res) => setTimeout(res, 1));
  const dir = join(base, `run-${r}`);
  let outcome = 'held';
  try {
    acquireLock(dir, () => {});
  } catch (e) {
    outcome = e?.exitCode === 3 ? 'refused' : `error ${e?.message}`;
  }
  // written beside and renamed, so that the test never reads it half written
  writeFileSync(join(base, `tmp-${process.pid}`), outcome);
  renameSync(join(base, `tmp-${process.pid}`), join(dir, `result-${process.pid}`));
}
while (!existsSync(join(base, 'done'))) await new Promise((res) => setTimeout(res, 5));
