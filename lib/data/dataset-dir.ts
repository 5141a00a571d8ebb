// A dataset on disk, written all at once or not at all.
//
//   posts.jsonl   every post as read (one JSON record a line), all people
//   train.txt     the training text (<|endoftext|>-joined, all epochs)
//   train.bin     its token blocks: uint32 little-endian, blockSize tokens each
//   valid.txt     held-out tweets, one epoch (only with a validation split)
//   valid.bin     their token blocks
//   stats.json    counts, seed and settings (DatasetManifest)
//
// The folder is written as every output folder is (lib/fs/safe-output.ts): into
// a staging folder beside the target, fsynced, then renamed into place; an
// earlier dataset is replaced only once the new one is complete, and a folder
// holding anything else is refused. A failure at any point leaves the old
// dataset or the new one, never half of one.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertOutputWritable, locateOutput, writeOutputDir, type OutputOptions } from '../fs/safe-output.js';
import type { Post } from '../sources/post.js';
import type { Dataset, DatasetStats } from './dataset.js';
import { DATASET_FILES, DATASET_FORMAT } from './dataset-files.js';
import { readTokenBlocks, TOKEN_FILE_FORMAT, tokenBlocksToBytes } from './token-blocks.js';

export { DATASET_FILES, DATASET_FORMAT } from './dataset-files.js';

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
 * an earlier dataset that tweetsmith wrote (`force`: or another tweetsmith
 * output). Check it before downloading anything, so a typo in --out does not
 * cost a download; writeDatasetDir checks again.
 */
export async function assertDatasetDirWritable(dir: string, options: OutputOptions = {}): Promise<void> {
  await assertOutputWritable(dir, 'dataset', options);
}

export async function writeDatasetDir(dir: string, posts: readonly Post[], dataset: Dataset, options: OutputOptions = {}): Promise<DatasetManifest> {
  const manifest = datasetManifest(dataset.stats);
  await writeOutputDir(dir, 'dataset', options, async (staging) => {
    await writeFile(join(staging, DATASET_FILES.posts), posts.map((post) => `${JSON.stringify(post)}\n`).join(''));
    await writeFile(join(staging, DATASET_FILES.trainText), dataset.trainText);
    await writeFile(join(staging, DATASET_FILES.trainTokens), tokenBlocksToBytes(dataset.trainBlocks));
    if (dataset.stats.validSplit > 0) {
      await writeFile(join(staging, DATASET_FILES.validText), dataset.validText);
      await writeFile(join(staging, DATASET_FILES.validTokens), tokenBlocksToBytes(dataset.validBlocks));
    }
    await writeFile(join(staging, DATASET_FILES.stats), `${JSON.stringify(manifest, null, 2)}\n`);
  });
  return manifest;
}

/** A dataset folder read back: its manifest and token blocks. */
export interface DatasetOnDisk {
  /** the folder read: `dir`, or its set-aside copy while a newer dataset was replacing it */
  at: string;
  manifest: DatasetManifest;
  trainBlocks: Uint32Array;
  validBlocks: Uint32Array;
}

/** Reads a dataset folder that writeDatasetDir wrote, checking that its files agree with stats.json. */
export async function readDatasetDir(dir: string): Promise<DatasetOnDisk> {
  const at = await locateOutput(dir);
  const statsFile = join(at, DATASET_FILES.stats);
  let manifest: DatasetManifest;
  try {
    manifest = JSON.parse(await readFile(statsFile, 'utf8')) as DatasetManifest;
  } catch (err) {
    throw new Error(`${statsFile}: cannot read a dataset's stats.json (${(err as Error).message}); write the dataset with: tweetsmith dataset SOURCE --out ${dir}`);
  }
  if (manifest?.format !== DATASET_FORMAT || manifest.tokenFormat !== TOKEN_FILE_FORMAT || !Number.isInteger(manifest.blockSize) || manifest.blockSize < 1) {
    throw new Error(`${statsFile}: not the stats.json of a tweetsmith dataset (format ${DATASET_FORMAT}, tokens ${TOKEN_FILE_FORMAT})`);
  }
  const blocks = async (name: string, count: number): Promise<Uint32Array> => {
    const file = join(at, name);
    const read = await readTokenBlocks(file, manifest.blockSize);
    if (read.length !== count * manifest.blockSize) {
      throw new Error(`${file}: holds ${read.length / manifest.blockSize} blocks; stats.json says ${count}`);
    }
    return read;
  };
  const trainBlocks = await blocks(DATASET_FILES.trainTokens, manifest.trainBlocks);
  const validBlocks = manifest.validSplit > 0 ? await blocks(DATASET_FILES.validTokens, manifest.validBlocks) : new Uint32Array(0);
  return { at, manifest, trainBlocks, validBlocks };
}
