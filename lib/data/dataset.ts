// The dataset: cleaned tweets of 1 to 3 people, balanced, repeated for the
// epochs, shuffled with a recorded seed, joined with <|endoftext|>, tokenized
// once and cut into blocks (pipeline.md §3–6).
//
// Every random choice draws from its own named stream of the seed (see rng.ts),
// so the same seed and the same posts give byte-identical output anywhere.
import { randomInt } from 'node:crypto';
import { TRAIN_DEFAULTS } from '../defaults.js';
import type { Tokenizer } from '../tokenizer/index.js';
import type { Post } from '../sources/post.js';
import { curatePosts, type PostCounts } from './curate.js';
import { checkDataSize, END_OF_TEXT, joinedCharacters, type DataSizeLimits } from './data-size.js';
import { modelNameFor, normalizeHandle, type ModelName } from './handles.js';
import { pyLength } from './python-text.js';
import { createRng, shuffled, MAX_SEED, type Rng } from './rng.js';
import { cutIntoBlocks } from './token-blocks.js';
import { upsampleToCharacters } from './upsample.js';

export const DEFAULT_BLOCK_SIZE = 1024;
export const MAX_USERS = 3;

export interface DatasetUser {
  handle: string;
  name?: string;
  avatarUrl?: string;
  posts: readonly Post[];
}

export interface DatasetOptions extends DataSizeLimits {
  /** 1 to 3 people; handles are normalised and must differ. */
  users: readonly DatasetUser[];
  /** Shuffled copies of the data in the training text (default: TRAIN_DEFAULTS.epochs). */
  epochs?: number;
  /** Seed of every shuffle (default: a random one, recorded in the stats). */
  seed?: number;
  /** Tokens per block (default 1024, GPT-2's context). */
  blockSize?: number;
  /** Fraction of each person's kept tweets held out for validation, in [0, 1) (default: TRAIN_DEFAULTS.validSplit). */
  validSplit?: number;
  /** Keep line breaks inside tweets (default false). */
  allowNewlines?: boolean;
  tokenizer: Pick<Tokenizer, 'encode'>;
}

export interface UserStats extends PostCounts {
  handle: string;
  name?: string;
  avatarUrl?: string;
  /** Characters of the kept tweets joined with <|endoftext|> (what the 6,000/40,000 limits measure). */
  characters: number;
  /** Kept tweets in the training part, and held out for validation. */
  trainTweets: number;
  validTweets: number;
  /** Tweets in one epoch after up-sampling (= trainTweets for the longest user). */
  upsampledTweets: number;
}

export interface DatasetStats extends ModelName {
  users: UserStats[];
  seed: number;
  epochs: number;
  blockSize: number;
  validSplit: number;
  allowNewlines: boolean;
  trainCharacters: number;
  trainTokens: number;
  trainBlocks: number;
  validCharacters: number;
  validTokens: number;
  validBlocks: number;
  warnings: string[];
}

export interface Dataset {
  trainText: string;
  /** trainBlocks × blockSize token ids, row-major. */
  trainBlocks: Uint32Array;
  /** The held-out tweets, one epoch; '' without a validation split. */
  validText: string;
  validBlocks: Uint32Array;
  stats: DatasetStats;
}

export async function buildDataset(options: DatasetOptions): Promise<Dataset> {
  const epochs = options.epochs ?? TRAIN_DEFAULTS.epochs;
  const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
  const validSplit = options.validSplit ?? TRAIN_DEFAULTS.validSplit;
  const allowNewlines = options.allowNewlines ?? false;
  const seed = options.seed ?? randomInt(0, 2 ** 32);
  checkOptions(epochs, blockSize, validSplit, seed);
  // Sorted by handle, like the model name: the order the people were named in changes nothing.
  const users = checkUsers(options.users);
  const warnings: string[] = [];

  // Clean, count and size-check each person; hold out their validation tweets.
  const prepared = users.map((user) => {
    const { kept, counts } = curatePosts(user.posts, { allowNewlines });
    const { characters, warning } = checkDataSize(user.handle, kept, counts, options);
    if (warning) warnings.push(warning);
    const { train, valid } = holdOut(kept, validSplit, createRng(seed, `valid:${user.handle}`));
    return { user, counts, characters, train, valid };
  });

  // Up-sample everyone to the longest person's character count, then build the epochs.
  const longest = Math.max(...prepared.map((p) => joinedCharacters(p.train)));
  const balanced = prepared.map((p) => upsampleToCharacters(p.train, longest, createRng(seed, `upsample:${p.user.handle}`)));
  const epochRng = createRng(seed, 'epochs');
  const oneEpoch = balanced.flat();
  // (Built as a list of epochs and flattened: spreading a big archive into push() would overflow the stack.)
  const trainTweets = Array.from({ length: epochs }, () => shuffled(oneEpoch, epochRng)).flat();
  const validTweets = shuffled(prepared.flatMap((p) => p.valid), createRng(seed, 'valid-order'));

  const trainText = joinTweets(trainTweets);
  const validText = joinTweets(validTweets);
  const trainTokens = options.tokenizer.encode(trainText);
  const validTokens = validText ? options.tokenizer.encode(validText) : [];
  const trainBlocks = cutIntoBlocks(trainTokens, blockSize);
  const validBlocks = cutIntoBlocks(validTokens, blockSize);
  if (trainBlocks.length === 0) {
    warnings.push(`the training text is ${trainTokens.length} tokens, less than one block of ${blockSize}: lower --block-size`);
  }
  if (validTweets.length > 0 && validBlocks.length === 0) {
    warnings.push(`the validation text is ${validTokens.length} tokens, less than one block of ${blockSize}: no validation blocks`);
  }

  const stats: DatasetStats = {
    ...modelNameFor(users.map((u) => u.handle)),
    users: prepared.map((p, i) => ({
      handle: p.user.handle,
      ...(p.user.name !== undefined ? { name: p.user.name } : {}),
      ...(p.user.avatarUrl !== undefined ? { avatarUrl: p.user.avatarUrl } : {}),
      ...p.counts,
      characters: p.characters,
      trainTweets: p.train.length,
      validTweets: p.valid.length,
      upsampledTweets: balanced[i]!.length,
    })),
    seed,
    epochs,
    blockSize,
    validSplit,
    allowNewlines,
    trainCharacters: pyLength(trainText),
    trainTokens: trainTokens.length,
    trainBlocks: trainBlocks.length / blockSize,
    validCharacters: pyLength(validText),
    validTokens: validTokens.length,
    validBlocks: validBlocks.length / blockSize,
    warnings,
  };
  return { trainText, trainBlocks, validText, validBlocks, stats };
}

/** `<|endoftext|>` at the start, between every two tweets, and at the end; '' for no tweets. */
export function joinTweets(tweets: readonly string[]): string {
  return tweets.length === 0 ? '' : END_OF_TEXT + tweets.join(END_OF_TEXT) + END_OF_TEXT;
}

/**
 * Whole tweets held out for validation: round(n × fraction) of them, at least
 * one and never all, chosen at random; the rest stay in their order.
 */
function holdOut(kept: readonly string[], fraction: number, rng: Rng): { train: string[]; valid: string[] } {
  if (fraction === 0 || kept.length < 2) return { train: kept.slice(), valid: [] };
  const count = Math.min(Math.max(Math.round(kept.length * fraction), 1), kept.length - 1);
  const chosen = shuffled(
    kept.map((_, i) => i),
    rng,
  ).slice(0, count);
  const held = new Set(chosen);
  return { train: kept.filter((_, i) => !held.has(i)), valid: chosen.map((i) => kept[i]!) };
}

function checkOptions(epochs: number, blockSize: number, validSplit: number, seed: number): void {
  if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`epochs must be a whole number ≥ 1, not ${epochs}`);
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new RangeError(`block size must be a whole number ≥ 1, not ${blockSize}`);
  if (!(validSplit >= 0 && validSplit < 1)) throw new RangeError(`validation split must be a fraction in [0, 1), not ${validSplit}`);
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > MAX_SEED) throw new RangeError(`seed must be a whole number from 0 to ${MAX_SEED}, not ${seed}`);
}

function checkUsers(users: readonly DatasetUser[]): DatasetUser[] {
  const byHandle = new Map<string, DatasetUser>();
  for (const user of users) {
    const handle = normalizeHandle(user.handle);
    if (byHandle.has(handle)) throw new Error(`@${handle} is named twice: merge their posts into one user (collectPosts does)`);
    byHandle.set(handle, { ...user, handle });
  }
  if (byHandle.size < 1 || byHandle.size > MAX_USERS) {
    throw new Error(`a dataset is made from 1 to ${MAX_USERS} people, not ${byHandle.size}`);
  }
  return [...byHandle.values()].sort((a, b) => (a.handle < b.handle ? -1 : a.handle > b.handle ? 1 : 0));
}
