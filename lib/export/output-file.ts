// Where an export may write: a file tweetsmith wrote before may be replaced (with
// `force`), anything else never is; and how: a temporary file in the same folder,
// synced to disk, then renamed over the target, so that a crash leaves either the
// old file or the whole new one.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** What the target is now: absent, a file of ours, or something else (why it is not ours). */
export type ExistingOutput = { kind: 'absent' } | { kind: 'ours'; what: string } | { kind: 'foreign'; why: string };

/**
 * Throws unless `file` may be written: it is absent, or `recognise` says tweetsmith
 * wrote it and `force` is set. `flag` names the option that chose the path, for messages.
 */
export async function checkReplaceable(
  file: string,
  force: boolean,
  recognise: (file: string) => Promise<ExistingOutput>,
  flag: string,
): Promise<void> {
  let stats;
  try {
    stats = await lstat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new Error(`${file}: cannot check it before writing (${(err as Error).message})`);
  }
  if (!stats.isFile()) {
    throw new Error(`${file}: exists and is not a regular file (${stats.isDirectory() ? 'a folder' : 'a link or device'}); tweetsmith never replaces it: choose another ${flag}`);
  }
  const existing = await recognise(file);
  if (existing.kind === 'ours') {
    if (!force) throw new Error(`${file}: exists (${existing.what}); pass --force (API: { force: true }) to replace it`);
    return;
  }
  if (existing.kind === 'foreign') {
    throw new Error(`${file}: exists and tweetsmith did not write it (${existing.why}); it is never replaced, even with --force: choose another ${flag}`);
  }
}

/** A fresh temporary name beside `file` (same folder, so the rename is atomic). */
export function temporarySibling(file: string): string {
  return join(dirname(file), `.${basename(file)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Lets `write` fill a temporary sibling of `file`, syncs it, and renames it over
 * `file`; the temporary file is removed if anything fails.
 */
export async function writeFileAtomically(file: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = temporarySibling(file);
  try {
    await write(tmp);
    const handle = await open(tmp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    if (existsSync(tmp)) await rm(tmp, { force: true });
    throw err;
  }
  await syncFolder(dirname(file));
}

// The rename itself is durable only once the folder is synced (POSIX); where a
// folder cannot be opened for that (Windows), the rename is as durable as it gets.
async function syncFolder(folder: string): Promise<void> {
  try {
    const handle = await open(folder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // not supported here
  }
}
