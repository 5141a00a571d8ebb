// The `tweetsmith dataset` command's work, callable from Node with the same
// options: collect the posts, build the dataset, write its folder.
import { Tokenizer } from '../tokenizer/index.js';
import type { SourceOptions } from '../sources/read-source.js';
import { collectPosts, type UserPosts } from './collect.js';
import { buildDataset, type Dataset, type DatasetOptions } from './dataset.js';
import { terminalText } from '../terminal-text.js';
import { assertDatasetDirWritable, writeDatasetDir, type DatasetManifest } from './dataset-dir.js';

export interface MakeDatasetOptions extends Omit<DatasetOptions, 'users' | 'tokenizer'>, SourceOptions {
  /** The folder to write (replaced as a whole if it holds an earlier dataset tweetsmith wrote; anything else is refused). */
  out: string;
  /** also replace another kind of tweetsmith output at `out` (never files tweetsmith did not write) */
  force?: boolean;
  /** Default: GPT-2's tokenizer. */
  tokenizer?: Pick<Tokenizer, 'encode'>;
}

export interface MadeDataset {
  users: UserPosts[];
  dataset: Dataset;
  manifest: DatasetManifest;
}

export async function makeDataset(sources: readonly string[], options: MakeDatasetOptions): Promise<MadeDataset> {
  const progress = options.progress ?? process.stderr;
  await assertDatasetDirWritable(options.out, { force: options.force });
  const users = await collectPosts(sources, { ...options, progress });
  progress.write('cleaning and tokenizing\n');
  const dataset = await buildDataset({ ...options, users, tokenizer: options.tokenizer ?? Tokenizer.gpt2() });
  // Warnings quote handles, which come from the sources.
  for (const warning of dataset.stats.warnings) progress.write(`warning: ${terminalText(warning)}\n`);
  const manifest = await writeDatasetDir(
    options.out,
    users.flatMap((user) => user.posts),
    dataset,
    { force: options.force },
  );
  return { users, dataset, manifest };
}
