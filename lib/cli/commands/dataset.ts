// `tweetsmith dataset SOURCE... --out DIR`: posts → cleaned training text and token blocks.
// A thin shell over makeDataset (lib/data): parse options, run, print.
import { Command } from 'commander';
import { SOURCE_LIMITS, TRAIN_DEFAULTS } from '../../defaults.js';
import { DEFAULT_BLOCK_SIZE, makeDataset, MIN_CHARACTERS, renderDataTable, WARN_CHARACTERS } from '../../data/index.js';
import { SOURCE_SYNTAX } from '../../sources/index.js';
import { Tokenizer } from '../../tokenizer/index.js';
import { fraction, positiveNumber, tokenLength, wholeNumber } from '../option-parsers.js';
import { terminalJson, terminalText } from '../../terminal-text.js';

interface DatasetCommandOptions {
  out: string;
  epochs: number;
  seed?: number;
  blockSize: number;
  validSplit: number;
  allowNewlines?: boolean;
  maxPosts?: number;
  rateLimitWait: number;
  minCharacters: number;
  warnCharacters: number;
  tokenizer?: string;
  force?: boolean;
  json?: boolean;
}

const ENVIRONMENT = `Environment:
  X_BEARER_TOKEN            X API bearer token (for @name / x:name); never printed or saved
  TWEETSMITH_X_API_URL      X API base URL (default https://api.x.com)
  TWEETSMITH_BSKY_URL       Bluesky AppView URL (default https://public.api.bsky.app)
  TWEETSMITH_MASTODON_URL   Mastodon server URL instead of https://HOST (for local testing)

Output (DIR is new, empty, or an earlier tweetsmith dataset, which is replaced as a whole
once the new one is complete; a folder holding other files, a file or a link is refused):
  posts.jsonl  the posts as read     train.txt  the training text
  train.bin    token blocks, uint32 little-endian, --block-size tokens each
  valid.txt, valid.bin (with --valid-split)     stats.json  counts, seed, settings
stdout: the model card's data table, or with --json only stats.json's document.`;

export function registerDataset(program: Command): void {
  program
    .command('dataset')
    .description('Collect the posts of 1 to 3 people, clean them as huggingtweets did, and write the training text and its token blocks')
    .argument('<source...>', 'where the posts come from (see below)')
    .requiredOption('--out <dir>', 'folder to write the dataset to (never one holding files tweetsmith did not write)')
    .option('--force', 'also replace another kind of tweetsmith output (a model, a checkpoint) at --out')
    .option('--epochs <n>', 'shuffled copies of the data in the training text', wholeNumber(1), TRAIN_DEFAULTS.epochs)
    .option('--seed <n>', 'seed of the shuffles (default: random, recorded in stats.json)', wholeNumber(0))
    .option('--block-size <n>', 'tokens per training block', tokenLength(1), DEFAULT_BLOCK_SIZE)
    .option('--valid-split <fraction>', "fraction of each person's tweets held out for validation", fraction, TRAIN_DEFAULTS.validSplit)
    .option('--allow-newlines', 'keep line breaks inside tweets')
    .option('--max-posts <n>', 'read at most this many posts from each network source (X: at most 3200)', wholeNumber(1))
    .option('--rate-limit-wait <minutes>', 'the longest rate-limit wait sat out; a later reset is an error that says when to retry', positiveNumber, SOURCE_LIMITS.maxRateLimitWaitMs / 60_000)
    .option('--min-characters <n>', "refuse a person with fewer characters of kept tweets", wholeNumber(0), MIN_CHARACTERS)
    .option('--warn-characters <n>', 'warn about a person with fewer characters of kept tweets', wholeNumber(0), WARN_CHARACTERS)
    .option('--tokenizer <dir>', "a model folder whose tokenizer to use (default: GPT-2's)")
    .option('--json', 'print the stats as one JSON document on stdout')
    .addHelpText('after', `\n${SOURCE_SYNTAX}\n\n${ENVIRONMENT}\n`)
    .action(async (sources: string[], options: DatasetCommandOptions) => {
      const tokenizer = options.tokenizer ? await Tokenizer.fromDir(options.tokenizer) : Tokenizer.gpt2();
      const { manifest } = await makeDataset(sources, {
        out: options.out,
        epochs: options.epochs,
        seed: options.seed,
        blockSize: options.blockSize,
        validSplit: options.validSplit,
        allowNewlines: options.allowNewlines ?? false,
        maxPosts: options.maxPosts,
        maxRateLimitWaitMs: options.rateLimitWait * 60_000,
        minCharacters: options.minCharacters,
        warnCharacters: options.warnCharacters,
        tokenizer,
        force: options.force,
        progress: process.stderr,
      });
      process.stderr.write(
        `wrote ${terminalText(options.out)}: ${manifest.trainBlocks} training blocks of ${manifest.blockSize} tokens` +
          `${manifest.validSplit > 0 ? `, ${manifest.validBlocks} validation blocks` : ''} (seed ${manifest.seed})\n`,
      );
      // The table holds names and handles as the sources gave them.
      if (options.json) process.stdout.write(`${terminalJson(manifest)}\n`);
      else process.stdout.write(terminalText(renderDataTable(manifest.users), { multiline: true }));
    });
}
