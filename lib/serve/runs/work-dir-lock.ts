// One server per work dir: two would both start the queued runs, and train
// into the same folders. The lock is WORKDIR/runs/server.pid, made with O_EXCL;
// one whose process is gone (a killed server) is taken over.
import { readFileSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { processIsAlive } from '../../fs/process-alive.js';

const LOCK_FILE = 'server.pid';
/** Work dirs this process holds (a second manager in the same process is refused too). */
const held = new Set<string>();

/** Takes the lock of `runsDir`, or throws naming the server that holds it. */
export async function lockWorkDir(runsDir: string, workDir: string): Promise<() => Promise<void>> {
  const path = join(runsDir, LOCK_FILE);
  const refuse = (pid: number) =>
    new Error(`${workDir} is in use by another tweetsmith serve (process ${pid}): stop it, or give this one another --dir`);
  if (held.has(path)) throw refuse(process.pid);
  for (let attempt = 0; ; attempt++) {
    try {
      const file = await open(path, 'wx');
      await file.writeFile(`${process.pid}\n`);
      await file.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processIsAlive(pid)) throw refuse(pid);
      await rm(path, { force: true }); // a killed server's
    }
  }
  held.add(path);
  return async () => {
    held.delete(path);
    await rm(path, { force: true });
  };
}
