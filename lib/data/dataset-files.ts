// The files of a dataset folder, by role (what each holds: dataset-dir.ts).
export const DATASET_FORMAT = 'tweetsmith-dataset';

export const DATASET_FILES = {
  posts: 'posts.jsonl',
  trainText: 'train.txt',
  trainTokens: 'train.bin',
  validText: 'valid.txt',
  validTokens: 'valid.bin',
  stats: 'stats.json',
} as const;
