// From posts to a training dataset: cleaning, counting, balancing, shuffling,
// tokenizing, and the dataset folder.
export { fixText, cleanTweet, isBoringTweet, type CleanOptions } from './clean.js';
export { curatePosts, type CuratedPosts, type PostCounts } from './curate.js';
export {
  checkDataSize,
  joinedCharacters,
  NotEnoughDataError,
  END_OF_TEXT,
  MIN_CHARACTERS,
  WARN_CHARACTERS,
  type DataSizeLimits,
} from './data-size.js';
export { normalizeHandle, modelNameFor, type ModelName } from './handles.js';
export { createRng, shuffled, type Rng } from './rng.js';
export { upsampleToCharacters } from './upsample.js';
export { cutIntoBlocks, readTokenBlocks, tokenBlocksToBytes, TOKEN_FILE_FORMAT } from './token-blocks.js';
export {
  buildDataset,
  joinTweets,
  DEFAULT_BLOCK_SIZE,
  MAX_USERS,
  type Dataset,
  type DatasetOptions,
  type DatasetStats,
  type DatasetUser,
  type UserStats,
} from './dataset.js';
export { collectPosts, type UserPosts } from './collect.js';
export { dataTable, renderDataTable, type DataTable, type DataTableColumn } from './data-table.js';
export {
  assertDatasetDirWritable,
  datasetManifest,
  readDatasetDir,
  writeDatasetDir,
  DATASET_FILES,
  DATASET_FORMAT,
  type DatasetManifest,
  type DatasetOnDisk,
} from './dataset-dir.js';
export { makeDataset, type MadeDataset, type MakeDatasetOptions } from './make-dataset.js';
