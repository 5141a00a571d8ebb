// Single-file outputs (an exported .gguf, a Modelfile): written whole or not at
// all, and never over a file tweetsmith did not write.
//
// For writers of such a file (e.g. `tweetsmith export --format gguf --out FILE`):
//
//   await replaceFileSafely(out, {
//     kind: 'GGUF file',
//     force: options.force,
//     isOurs: async (path) => /* does this existing file carry what tweetsmith writes into its GGUF files? */,
//     write: async (temp) => { /* write the complete file at `temp` */ },
//   });
//
// Rules: a missing path is written. An existing regular file is replaced only
// with `force` AND when `isOurs` recognises it as a file of that kind that
// tweetsmith wrote; a folder, a symbolic link, or anyone else's file is refused
// (OutputRefusedError) whatever `force` says. The new file is written beside the
// target (PARENT/.NAME.tweetsmith-staging-PID, same filesystem), fsynced, then
// renamed over the target in one step, and PARENT is fsynced: a crash leaves the
// old file or the new one. Staging files left by killed runs are removed by the
// next write to the same path.
import { lstat, mkdir, readdir, readlink, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { OutputRefusedError } from './safe-output.js';
import { processIsAlive } from './process-alive.js';
import { syncPath } from './sync.js';

export interface ReplaceFileOptions {
  /** what the file is, for messages: "GGUF file", "Modelfile" */
  kind: string;
  /** allow replacing an existing file that `isOurs` recognises */
  force?: boolean;
  /** whether the existing regular file at `path` is a `kind` that tweetsmith wrote */
  isOurs: (path: string) => Promise<boolean>;
  /** writes the complete new file at `tempPath` (a new path beside the target) */
  write: (tempPath: string) => Promise<void>;
}

async function lstatOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Throws unless `path` may be written with these options (see the rules above). */
export async function assertFileReplaceable(path: string, options: Pick<ReplaceFileOptions, 'kind' | 'force' | 'isOurs'>): Promise<void> {
  const stats = await lstatOrUndefined(resolve(path));
  if (!stats) return;
  if (stats.isSymbolicLink()) {
    const to = await readlink(path).catch(() => '?');
    throw new OutputRefusedError(path, `${path} is a symbolic link (to ${to}): tweetsmith does not write through links; choose another output file`);
  }
  if (!stats.isFile()) throw new OutputRefusedError(path, `${path} exists and is not a file: choose another output file`);
  // Ownership first: a file that is not ours is refused whatever --force says, so
  // the message must not suggest --force for it.
  if (!(await options.isOurs(path))) {
    throw new OutputRefusedError(
      path,
      `${path} is not a ${options.kind} that tweetsmith wrote: tweetsmith never replaces other files, even with --force; choose another output file`,
    );
  }
  if (!options.force) {
    throw new OutputRefusedError(path, `${path} already exists (a ${options.kind} that tweetsmith wrote): pass --force to replace it, or choose another output file`);
  }
}

/** Writes a single-file output at `path` (see the rules at the top of this file). */
export async function replaceFileSafely(path: string, options: ReplaceFileOptions): Promise<void> {
  const target = resolve(path);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  await assertFileReplaceable(path, options);
  await removeStaleStaging(target);
  const temp = join(parent, `.${basename(target)}.tweetsmith-staging-${process.pid}`);
  await rm(temp, { force: true });
  try {
    await options.write(temp);
    await syncPath(temp);
    await assertFileReplaceable(path, options); // again: the write may have taken long
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await syncPath(parent);
}

async function removeStaleStaging(target: string): Promise<void> {
  const name = basename(target).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const staging = new RegExp(`^\\.${name}\\.tweetsmith-staging-(\\d+)$`);
  for (const entry of await readdir(dirname(target), { withFileTypes: true })) {
    const match = staging.exec(entry.name);
    if (!match || !entry.isFile()) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || !processIsAlive(pid)) await rm(join(dirname(target), entry.name), { force: true });
  }
}
