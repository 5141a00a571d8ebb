// A lock file per blob, so that two processes sharing a cache never write the
// same `blobs/<etag>.incomplete` at once: whoever creates the lock file with
// O_EXCL writes the blob, the others wait and then find it done.
//
// A holder that crashed leaves its lock behind, so a lock is taken over when
// it is stale: older than ten minutes (the holder refreshes it while it
// works, and a download in progress keeps its `.incomplete` fresh, so a long
// download of a large model does not look stale), or written by a process on
// this machine that is no longer running (so Ctrl-C and a rerun need not
// wait). Python's lock files are empty and kept after use; only their age
// tells, which is why that rule exists.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { mkdir, open, readFile, rm, stat, utimes } from 'node:fs/promises';
import { dirname } from 'node:path';
import { processIsAlive } from '../fs/process-alive.js';

export const STALE_LOCK_MS = 10 * 60 * 1000;
const POLL_MS = 100;
const HEARTBEAT_MS = 60 * 1000;

export interface BlobLock {
  release(): Promise<void>;
}

interface LockOwner {
  pid: number;
  host: string;
  id: string;
}

async function mtimeMs(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return undefined;
  }
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    const owner = JSON.parse(await readFile(path, 'utf8'));
    return typeof owner?.pid === 'number' && typeof owner?.host === 'string' ? owner : undefined;
  } catch {
    return undefined;
  }
}

async function isStale(lockPath: string, workPath: string): Promise<boolean> {
  const lockTime = await mtimeMs(lockPath);
  if (lockTime === undefined) return false; // released meanwhile: just try again
  const lastActivity = Math.max(lockTime, (await mtimeMs(workPath)) ?? 0);
  if (Date.now() - lastActivity > STALE_LOCK_MS) return true;
  const owner = await readOwner(lockPath);
  return owner !== undefined && owner.host === hostname() && owner.pid !== process.pid && !processIsAlive(owner.pid);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Takes `lockPath`, waiting while another live holder has it. `workPath` is the
 * file the holder writes (the blob's `.incomplete`): its age counts as the holder's.
 */
export async function acquireBlobLock(lockPath: string, workPath: string): Promise<BlobLock> {
  await mkdir(dirname(lockPath), { recursive: true });
  const owner: LockOwner = { pid: process.pid, host: hostname(), id: randomUUID() };
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      try {
        await handle.writeFile(JSON.stringify(owner));
      } finally {
        await handle.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await isStale(lockPath, workPath)) await rm(lockPath, { force: true });
    else await sleep(POLL_MS);
  }

  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(lockPath, now, now).catch(() => {});
  }, HEARTBEAT_MS);
  heartbeat.unref();
  return {
    async release() {
      clearInterval(heartbeat);
      // Only our own lock: if it was taken over as stale, it is someone else's now.
      if ((await readOwner(lockPath))?.id === owner.id) await rm(lockPath, { force: true });
    },
  };
}
