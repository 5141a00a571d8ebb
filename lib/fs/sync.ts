// fsync for files and folders: what makes a rename crash-safe. A rename is only
// as durable as the data it points at, so every file of a staged output is
// flushed before the rename, and the parent folder after it.
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Flushes one file or folder to disk. Folders cannot be opened on Windows: that is skipped there. */
export async function syncPath(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EISDIR' || code === 'EPERM' || code === 'EACCES') return;
    throw err;
  }
  try {
    await handle.sync();
  } catch (err) {
    // Some filesystems (and Windows for folders) cannot fsync a folder; the files were flushed.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EPERM' && code !== 'EISDIR') throw err;
  } finally {
    await handle.close();
  }
}

/** Flushes every file under `dir`, then each folder (children before parents). Links are not followed. */
export async function syncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await syncTree(path);
    else if (entry.isFile()) await syncPath(path);
  }
  await syncPath(dir);
}
