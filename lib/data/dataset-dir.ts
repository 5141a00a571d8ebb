// A dataset on disk, written all at once or not at all.
//
//   posts.jsonl   every post as read (one JSON record a line), all people
//   train.txt     the training text (<|endoftext|>-joined, all epochs)
//   train.bin     its token blocks: uint32 little-endian, blockSize tokens each
//   valid.txt     held-out tweets, one epoch (only with a validation split)
//   valid.bin     their token blocks
//   stats.json    counts, seed and settings (DatasetManifest)
//
// The files are written into a fresh folder beside the target, which then
// takes the target's name in one rename: a failure at any point leaves
// either the old folder or the new one, never half of one.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Post } from '../sources/post.js';
import type { Dataset, DatasetStats } from './dataset.js';
import { TOKEN_FILE_FORMAT, tokenBlocksToBytes } from './token-blocks.js';

export const DATASET_FORMAT = 'tweetsmith-dataset';

export const DATASET_FILES = {
  posts: 'posts.jsonl',
  trainText: 'train.txt',
  trainTokens: 'train.bin',
  validText: 'valid.txt',
  validTokens: 'valid.bin',
  stats: 'stats.json',
} as const;

/** stats.json: the dataset's stats plus what a reader of the files needs to know. */
export interface DatasetManifest extends DatasetStats {
  format: typeof DATASET_FORMAT;
  formatVersion: 1;
  tokenFormat: typeof TOKEN_FILE_FORMAT;
}

export function datasetManifest(stats: DatasetStats): DatasetManifest {
  return { format: DATASET_FORMAT, formatVersion: 1, tokenFormat: TOKEN_FILE_FORMAT, ...stats };
}

/**
 * Fails unless `dir` can be (re)placed: it does not exist, is empty, or holds
 * an earlier dataset. Check it before downloading anything, so a typo in
 * --out does not cost a download; writeDatasetDir checks again.
 */
export async function assertDatasetDirWritable(dir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw new Error(`${dir} is a file, not a folder: choose another --out`);
    throw err;
  }
  if (entries.length === 0) return;
  try {
    const stats = JSON.parse(await readFile(join(dir, DATASET_FILES.stats), 'utf8')) as { format?: unknown };
    if (stats.format === DATASET_FORMAT) return;
  } catch {
    // not a dataset: refused below
  }
  throw new Error(`${dir} already exists and is not a tweetsmith dataset: choose another --out, or remove it first`);
}

export async function writeDatasetDir(dir: string, posts: readonly Post[], dataset: Dataset): Promise<DatasetManifest> {
  const target = resolve(dir);
  await assertDatasetDirWritable(target);
  await mkdir(dirname(target), { recursive: true });
  const staging = await mkdtemp(join(dirname(target), `.${basename(target)}.partial-`));
  try {
    const manifest = datasetManifest(dataset.stats);
    await writeFile(join(staging, DATASET_FILES.posts), posts.map((post) => `${JSON.stringify(post)}\n`).join(''));
    await writeFile(join(staging, DATASET_FILES.trainText), dataset.trainText);
    await writeFile(join(staging, DATASET_FILES.trainTokens), tokenBlocksToBytes(dataset.trainBlocks));
    if (dataset.stats.validSplit > 0) {
      await writeFile(join(staging, DATASET_FILES.validText), dataset.validText);
      await writeFile(join(staging, DATASET_FILES.validTokens), tokenBlocksToBytes(dataset.validBlocks));
    }
    await writeFile(join(staging, DATASET_FILES.stats), `${JSON.stringify(manifest, null, 2)}\n`);
    await replaceDir(staging, target);
    return manifest;
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/** Puts `staging` at `target`; an existing target is moved aside first and removed only after. */
async function replaceDir(staging: string, target: string): Promise<void> {
  try {
    await rename(staging, target);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EPERM') throw err;
  }
  const aside = join(dirname(target), `.${basename(target)}.old-${randomBytes(4).toString('hex')}`);
  await rename(target, aside);
  try {
    await rename(staging, target);
  } catch (err) {
    await rename(aside, target); // put the old one back
    throw err;
  }
  await rm(aside, { recursive: true, force: true });
}
