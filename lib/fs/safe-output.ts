// Output folders (a model, a dataset, a checkpoint): the one place that decides
// whether a folder may be replaced, and replaces it so that a crash at any
// instant leaves a complete output to load. Every command and API call that
// writes an output folder goes through writeOutputDir.
//
// What may be replaced: a missing path, an empty folder, or a folder tweetsmith
// wrote itself — it carries OUTPUT_MARKER (or, for outputs written before the
// marker, a file only tweetsmith writes) AND every entry in it belongs to the
// layout of its kind (output-layouts.ts). A same-kind output is replaced as the
// normal re-run; another kind of tweetsmith output needs `force`. A file, a
// symbolic link, or a folder holding anything else is refused, force or not.
//
// How it is replaced (the target is DIR, in PARENT):
//   1. the new output is written into PARENT/.DIR.tweetsmith-staging-PID
//      (same filesystem, so the renames below are atomic), marker included;
//   2. every file and folder in it is fsynced;
//   3. DIR is renamed to PARENT/.DIR.tweetsmith-previous (the set-aside copy);
//   4. staging is renamed to DIR, and PARENT is fsynced;
//   5. the set-aside copy is removed, its marker last.
// Between 3 and 4 DIR is missing: readers (locateOutput: GPT2.load, the dataset
// reader, --resume) then take the set-aside copy, and the next writer puts it
// back first (recoverOutput). A staging folder whose process is gone is junk
// from a killed run: the next writer to that DIR removes it.
import { lstat, mkdir, readdir, readFile, readlink, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { OUTPUT_FORMAT, OUTPUT_KINDS, OUTPUT_LAYOUTS, OUTPUT_MARKER, OUTPUT_TEMP_FILE, type OutputKind } from './output-layouts.js';
import { processIsAlive } from './process-alive.js';
import { syncPath, syncTree } from './sync.js';

export { OUTPUT_KINDS, OUTPUT_MARKER, type OutputKind };

export interface OutputOptions {
  /** also replace a tweetsmith output of another kind (never anything tweetsmith did not write) */
  force?: boolean;
}

/** A refused output path: `path` is the folder as given, the message says why and what to do. */
export class OutputRefusedError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'OutputRefusedError';
  }
}

type Found = { state: 'missing' } | { state: 'empty' } | { state: 'previous'; kind: OutputKind };

const ADVICE =
  'tweetsmith replaces only a folder it wrote itself and never deletes files it did not write, even with --force: ' +
  'move your files elsewhere, or choose another output folder (a new or empty one)';

/** PARENT/.DIR.tweetsmith-previous: where the old output waits while the new one takes its name. */
export function setAsidePath(dir: string): string {
  const target = resolve(dir);
  return join(dirname(target), `.${basename(target)}.tweetsmith-previous`);
}

function stagingPath(target: string, pid = process.pid): string {
  return join(dirname(target), `.${basename(target)}.tweetsmith-staging-${pid}`);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function lstatOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** The kind the marker names; 'invalid' for a marker tweetsmith did not write; undefined without one. */
async function markerKind(dir: string): Promise<OutputKind | 'invalid' | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, OUTPUT_MARKER), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return 'invalid';
  }
  try {
    const marker = JSON.parse(text) as { format?: unknown; kind?: unknown };
    if (marker?.format === OUTPUT_FORMAT && OUTPUT_KINDS.includes(marker.kind as OutputKind)) return marker.kind as OutputKind;
  } catch {
    // not ours
  }
  return 'invalid';
}

/** The first entry (relative path) of `dir` that the layout of `kind` does not have; undefined if none. */
async function firstForeignEntry(dir: string, kind: OutputKind): Promise<string | undefined> {
  const layout = OUTPUT_LAYOUTS[kind];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const fileLike = entry.isFile() || entry.isSymbolicLink(); // older outputs hold links copied from a hub cache
    if (fileLike && (layout.files.has(entry.name) || OUTPUT_TEMP_FILE.test(entry.name))) continue;
    const allowed = layout.folders.get(entry.name);
    if (allowed && entry.isDirectory()) {
      for (const inner of await readdir(join(dir, entry.name), { withFileTypes: true })) {
        if (!((inner.isFile() || inner.isSymbolicLink()) && allowed(inner.name))) return `${entry.name}/${inner.name}`;
      }
      continue;
    }
    return entry.isDirectory() ? `${entry.name}/` : entry.name;
  }
  return undefined;
}

/** Which tweetsmith output `dir` (an existing, non-empty folder) is, or why it is not one. */
async function recognise(dir: string, shown: string, kind: OutputKind): Promise<OutputKind> {
  const marked = await markerKind(dir);
  if (marked === 'invalid') {
    throw new OutputRefusedError(shown, `${shown}: its ${OUTPUT_MARKER} is not one tweetsmith wrote; ${ADVICE}`);
  }
  let found = marked;
  if (!found) {
    const names = await readdir(dir);
    for (const candidate of [kind, ...OUTPUT_KINDS.filter((k) => k !== kind)]) {
      if (await OUTPUT_LAYOUTS[candidate].legacy(dir, names)) {
        found = candidate;
        break;
      }
    }
  }
  if (!found) {
    const foreign = await firstForeignEntry(dir, kind);
    throw new OutputRefusedError(
      shown,
      foreign
        ? `${shown} holds ${join(shown, foreign)}, which tweetsmith did not write; ${ADVICE}`
        : `${shown} is a ${kind} folder that tweetsmith did not write (it has no ${OUTPUT_MARKER}); ${ADVICE}`,
    );
  }
  const foreign = await firstForeignEntry(dir, found);
  if (foreign) {
    throw new OutputRefusedError(shown, `${shown} is a tweetsmith ${found} output, but ${join(shown, foreign)} is not part of one; ${ADVICE}`);
  }
  return found;
}

/** What is at `dir`, or an OutputRefusedError saying why it may not be replaced by a `kind` output. */
async function inspect(dir: string, shown: string, kind: OutputKind, options: OutputOptions): Promise<Found> {
  const stats = await lstatOrUndefined(dir);
  if (!stats) return { state: 'missing' };
  if (stats.isSymbolicLink()) {
    const to = await readlink(dir).catch(() => '?');
    throw new OutputRefusedError(
      shown,
      `${shown} is a symbolic link (to ${to}): tweetsmith does not write through links; give the real folder's path, or choose another output folder`,
    );
  }
  if (!stats.isDirectory()) {
    throw new OutputRefusedError(shown, `${shown} is a file, not a folder: tweetsmith never replaces it; choose another output folder`);
  }
  if ((await readdir(dir)).length === 0) return { state: 'empty' };
  const found = await recognise(dir, shown, kind);
  if (found !== kind && !options.force) {
    throw new OutputRefusedError(
      shown,
      `${shown} holds a tweetsmith ${found} output, not a ${kind}: pass --force (API: force: true) to replace it, or choose another output folder`,
    );
  }
  return { state: 'previous', kind: found };
}

/**
 * Fails unless a `kind` output may be written at `dir`: call it before long work
 * (downloads, training) so a wrong --out costs nothing. writeOutputDir checks
 * again just before it replaces anything.
 */
export async function assertOutputWritable(dir: string, kind: OutputKind, options: OutputOptions = {}): Promise<void> {
  const target = resolve(dir);
  const aside = setAsidePath(target);
  if (!(await lstatOrUndefined(target)) && (await lstatOrUndefined(aside))) {
    await inspect(aside, aside, kind, options); // put back before writing: it must be ours
    return;
  }
  await inspect(target, dir, kind, options);
}

/** Where the output at `dir` can be read: `dir`, or its set-aside copy while a replacement is under way. */
export async function locateOutput(dir: string): Promise<string> {
  if (await lstatOrUndefined(dir)) return dir;
  const aside = setAsidePath(dir);
  const stats = await lstatOrUndefined(aside);
  return stats?.isDirectory() ? aside : dir;
}

/** Removes a folder tweetsmith wrote, its marker last, so that a crash part-way leaves it recognisable. */
async function removeOwnFolder(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name !== OUTPUT_MARKER) await rm(join(dir, name), { recursive: true, force: true });
  }
  await rm(join(dir, OUTPUT_MARKER), { force: true });
  await rmdir(dir);
}

/**
 * Finishes or undoes what a killed writer left at `dir`: puts a set-aside copy
 * back when `dir` is missing, removes it when `dir` is there (the new output was
 * already in place), and removes staging folders whose process is gone.
 */
export async function recoverOutput(dir: string): Promise<void> {
  const target = resolve(dir);
  const parent = dirname(target);
  const aside = setAsidePath(target);
  const asideStats = await lstatOrUndefined(aside);
  if (asideStats?.isDirectory() && (await readdir(aside)).length === 0) {
    await rmdir(aside); // a removal killed after the marker, the last file, was gone
  } else if (asideStats?.isDirectory()) {
    if (!(await lstatOrUndefined(target))) {
      await rename(aside, target);
      await syncPath(parent);
    } else {
      await recognise(aside, aside, 'model'); // throws unless it is a tweetsmith output, whatever its kind
      await removeOwnFolder(aside);
    }
  }
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return;
  }
  const staging = new RegExp(`^\\.${escapeRegExp(basename(target))}\\.tweetsmith-staging-(\\d+)$`);
  for (const name of names) {
    const match = staging.exec(name);
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid !== process.pid && processIsAlive(pid)) continue; // another process is writing there now
    const path = join(parent, name);
    const stats = await lstatOrUndefined(path);
    if (stats?.isDirectory() || stats?.isFile()) await rm(path, { recursive: true, force: true });
  }
}

async function writeMarker(dir: string, kind: OutputKind): Promise<void> {
  const marker = { format: OUTPUT_FORMAT, formatVersion: 1, kind, note: 'written by tweetsmith; it replaces this folder only while every file in it is its own' };
  await writeFile(join(dir, OUTPUT_MARKER), `${JSON.stringify(marker, null, 2)}\n`);
}

async function makeParent(parent: string, shown: string): Promise<void> {
  try {
    await mkdir(parent, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new OutputRefusedError(shown, `${shown}: cannot create the folder that holds it, ${parent} (${code ?? String(err)})`);
  }
}

/**
 * Writes a `kind` output at `dir`: `fill` writes its files into a fresh staging
 * folder, which then replaces `dir` as described at the top of this file. Refuses
 * (OutputRefusedError) whatever is not a tweetsmith output; see assertOutputWritable.
 */
export async function writeOutputDir(dir: string, kind: OutputKind, options: OutputOptions, fill: (staging: string) => Promise<void>): Promise<void> {
  const target = resolve(dir);
  const parent = dirname(target);
  await makeParent(parent, dir);
  await assertOutputWritable(dir, kind, options);
  await recoverOutput(target);
  const staging = stagingPath(target);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging);
  try {
    await writeMarker(staging, kind);
    await fill(staging);
    await syncTree(staging);
    // checked again: a long run may have started before the user put files there
    const found = await inspect(target, dir, kind, options);
    await install(staging, target, found, dir);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

async function install(staging: string, target: string, found: Found, shown: string): Promise<void> {
  const parent = dirname(target);
  if (found.state === 'missing' || found.state === 'empty') {
    try {
      await rename(staging, target); // POSIX rename replaces an empty folder in one step
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (found.state !== 'empty' || (code !== 'EPERM' && code !== 'EEXIST' && code !== 'ENOTEMPTY')) throw err;
      try {
        await rmdir(target); // fails if something arrived there meanwhile: nothing is lost
      } catch {
        throw new OutputRefusedError(shown, `${shown} was empty and is not any more; ${ADVICE}`);
      }
      await rename(staging, target);
    }
    await syncPath(parent);
    return;
  }
  const aside = setAsidePath(target);
  await rename(target, aside);
  try {
    await rename(staging, target);
  } catch (err) {
    await rename(aside, target);
    throw err;
  }
  await syncPath(parent);
  await removeOwnFolder(aside);
}

/**
 * Removes the `kind` output at `dir` (a finished run's checkpoint), with any
 * set-aside copy and staging left by a killed writer. A folder that is not a
 * tweetsmith output of that kind (a file a user added, say) is left, and the
 * error says why.
 */
export async function removeOutputDir(dir: string, kind: OutputKind): Promise<void> {
  const target = resolve(dir);
  await recoverOutput(target);
  const found = await inspect(target, dir, kind, {});
  if (found.state === 'missing') return;
  if (found.state === 'empty') await rmdir(target);
  else await removeOwnFolder(target);
  await syncPath(dirname(target));
}

/**
 * Adds or replaces one file (`name`, e.g. the model card) in an output folder
 * that tweetsmith has just written: under a temporary name beside it, fsynced,
 * then renamed over, so a crash leaves the old file or the new one.
 */
export async function writeFileIntoOutput(dir: string, name: string, data: string | Uint8Array): Promise<void> {
  const target = join(dir, name);
  const temp = join(dir, `.${name}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, data);
    await syncPath(temp);
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await syncPath(dir);
}
