// Parsing the tokenizer files of a model directory, with errors that name the file and
// say what is wrong with it.
import { readFile } from 'node:fs/promises';
import { MAX_TOKEN_ID } from '../limits.js';

/** The first line of a GPT-2 `merges.txt`. */
export const MERGES_HEADER = '#version: 0.2';

/** token → id, in the byte-level form (`Ġ` for a space). */
export type Vocab = Map<string, number>;
/** Merge pairs in rank order: index 0 is applied first. */
export type Merges = Array<[string, string]>;

/** A token matched in the raw text before pre-tokenization (`<|endoftext|>`). */
export interface AddedToken {
  content: string;
  id: number;
  special: boolean;
}

export class TokenizerFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`tweetsmith: ${file}: ${message}`, options);
    this.name = 'TokenizerFileError';
  }
}

/** Read a file as UTF-8; a missing file is a TokenizerFileError naming it. */
export async function readTextFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? String(err)})`;
    throw new TokenizerFileError(path, why, { cause: err });
  }
}

export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TokenizerFileError(file, `bad JSON: ${(err as Error).message}`, { cause: err });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A token id: an integer from 0 to MAX_TOKEN_ID (an id such as 1e300 would size the id tables). */
export function isTokenId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_TOKEN_ID;
}

/** A value as an error message shows it: JSON, cut short. */
export function shown(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/** Turn a parsed `{token: id}` object into a Vocab, checking every id. */
export function vocabFromObject(value: unknown, file: string, where = 'the vocabulary'): Vocab {
  if (!isObject(value)) throw new TokenizerFileError(file, `${where} is not a JSON object of token → id`);
  const vocab: Vocab = new Map();
  const owner = new Map<number, string>();
  // Object.entries, not `for in`: the vocabulary holds keys such as "constructor".
  for (const [token, id] of Object.entries(value)) {
    if (!isTokenId(id)) {
      throw new TokenizerFileError(file, `${where}: token ${shown(token)} has id ${shown(id)}, not a token id (an integer from 0 to ${MAX_TOKEN_ID})`);
    }
    const previous = owner.get(id);
    if (previous !== undefined) {
      throw new TokenizerFileError(file, `${where}: id ${id} is given to both ${shown(previous)} and ${shown(token)}`);
    }
    owner.set(id, token);
    vocab.set(token, id);
  }
  if (vocab.size === 0) throw new TokenizerFileError(file, `${where} is empty`);
  return vocab;
}

export function parseVocab(text: string, file: string): Vocab {
  return vocabFromObject(parseJson(text, file), file);
}

/**
 * Parse `merges.txt`: an optional `#version` line, then one `left right` pair a line.
 * Blank lines are skipped (the file ends with a newline); anything else that is not
 * exactly two tokens separated by one space is an error with its line number.
 * `lineNumbers`, when given, receives each merge's 1-based line for later messages.
 */
export function parseMerges(text: string, file: string, lineNumbers?: number[]): Merges {
  const merges: Merges = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (i === 0 && line.startsWith('#version')) continue;
    if (line === '') continue;
    merges.push(parseMergeLine(line, file, `line ${i + 1}`));
    lineNumbers?.push(i + 1);
  }
  return merges;
}

function parseMergeLine(line: string, file: string, where: string): [string, string] {
  const parts = line.split(' ');
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
    throw new TokenizerFileError(file, `${where}: malformed merge ${shown(line)} (expected two tokens separated by one space)`);
  }
  return [parts[0]!, parts[1]!];
}

/** Merges as `tokenizer.json` stores them: `"a b"` strings (older) or `["a", "b"]` pairs (newer). */
export function mergesFromJson(value: unknown, file: string): Merges {
  if (!Array.isArray(value)) throw new TokenizerFileError(file, 'model.merges is not an array');
  return value.map((entry: unknown, i): [string, string] => {
    const where = `model.merges[${i}]`;
    if (typeof entry === 'string') return parseMergeLine(entry, file, where);
    if (Array.isArray(entry) && entry.length === 2 && typeof entry[0] === 'string' && typeof entry[1] === 'string' && entry[0] !== '' && entry[1] !== '') {
      return [entry[0], entry[1]];
    }
    throw new TokenizerFileError(file, `${where}: malformed merge ${shown(entry)} (expected "a b" or ["a", "b"])`);
  });
}

/** Added tokens from `tokenizer.json`'s `added_tokens` or `tokenizer_config.json`'s `added_tokens_decoder`. */
export function addedTokenFromJson(value: unknown, file: string, where: string, id?: number): AddedToken {
  if (!isObject(value) || typeof value.content !== 'string' || value.content === '') {
    throw new TokenizerFileError(file, `${where} is not an added token with a "content" string`);
  }
  const tokenId = id ?? value.id;
  if (!isTokenId(tokenId)) throw new TokenizerFileError(file, `${where} has no valid "id" (an integer from 0 to ${MAX_TOKEN_ID}), got ${shown(tokenId)}`);
  if (value.special !== undefined && typeof value.special !== 'boolean') throw new TokenizerFileError(file, `${where}: "special" must be true or false, got ${shown(value.special)}`);
  return { content: value.content, id: tokenId, special: value.special === true };
}

export { isObject };
