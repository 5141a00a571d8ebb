// Hugging Face `tokenizer.json` (the `tokenizers` library's one-file form) for a byte-level
// BPE like GPT-2's: writing it, and reading back the parts this tokenizer can honour.
import {
  type AddedToken,
  type Merges,
  type Vocab,
  TokenizerFileError,
  addedTokenFromJson,
  isObject,
  mergesFromJson,
  parseJson,
  shown,
  vocabFromObject,
} from './load.js';

/**
 * The `tokenizer.json` of GPT-2: ByteLevel pre-tokenizer (GPT-2's regex, no prefix space),
 * BPE model, ByteLevel decoder and post-processor, as on the hub for `gpt2`.
 * Built as text so that the vocabulary keeps id order: a JS object would move
 * integer-like keys ("0", "1", …) to the front.
 */
export function buildTokenizerJson(vocab: Vocab, merges: Merges, addedTokens: Array<[string, number]>): string {
  const added = addedTokens.map(([content, id]) =>
    JSON.stringify({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }),
  );
  const vocabLines = [...vocab].sort((a, b) => a[1] - b[1]).map(([token, id]) => `      ${JSON.stringify(token)}: ${id}`);
  // Merges as "a b" strings: every version of `tokenizers` reads that form, and a
  // byte-level token never contains a space, so it is unambiguous.
  const mergeLines = merges.map(([a, b]) => `      ${JSON.stringify(`${a} ${b}`)}`);
  const byteLevel = (addPrefixSpace: boolean, trimOffsets: boolean) =>
    JSON.stringify({ type: 'ByteLevel', add_prefix_space: addPrefixSpace, trim_offsets: trimOffsets, use_regex: true });
  return [
    '{',
    '  "version": "1.0",',
    '  "truncation": null,',
    '  "padding": null,',
    `  "added_tokens": [${added.length ? '\n    ' + added.join(',\n    ') + '\n  ' : ''}],`,
    '  "normalizer": null,',
    `  "pre_tokenizer": ${byteLevel(false, true)},`,
    `  "post_processor": ${byteLevel(true, false)},`,
    `  "decoder": ${byteLevel(true, true)},`,
    '  "model": {',
    '    "type": "BPE",',
    '    "dropout": null,',
    '    "unk_token": null,',
    '    "continuing_subword_prefix": "",',
    '    "end_of_word_suffix": "",',
    '    "fuse_unk": false,',
    '    "byte_fallback": false,',
    '    "ignore_merges": false,',
    '    "vocab": {',
    vocabLines.join(',\n'),
    '    },',
    '    "merges": [',
    mergeLines.join(',\n'),
    '    ]',
    '  }',
    '}',
    '',
  ].join('\n');
}

export interface TokenizerJsonContents {
  vocab: Vocab;
  merges: Merges;
  addedTokens: AddedToken[];
}

/**
 * Read a `tokenizer.json`, refusing pipelines that are not GPT-2's: anything this tokenizer
 * would silently encode differently (a normalizer, a prefix space, another pre-tokenizer or
 * model) is an error that says which field.
 */
export function parseTokenizerJson(text: string, file: string): TokenizerJsonContents {
  const root = parseJson(text, file);
  if (!isObject(root)) throw new TokenizerFileError(file, 'not a JSON object');
  if (root.normalizer !== null && root.normalizer !== undefined) {
    throw new TokenizerFileError(file, `unsupported normalizer ${shown(root.normalizer)} (GPT-2 has none)`);
  }
  checkByteLevel(root.pre_tokenizer, file, 'pre_tokenizer');
  const model = root.model;
  if (!isObject(model)) throw new TokenizerFileError(file, 'has no "model" object');
  if (model.type !== undefined && model.type !== 'BPE') {
    throw new TokenizerFileError(file, `unsupported model type ${shown(model.type)} (expected "BPE")`);
  }
  for (const [field, neutral] of [['continuing_subword_prefix', ''], ['end_of_word_suffix', '']] as const) {
    const value = model[field];
    if (value !== undefined && value !== null && value !== neutral) {
      throw new TokenizerFileError(file, `unsupported model.${field} ${shown(value)}`);
    }
  }
  for (const field of ['byte_fallback', 'ignore_merges'] as const) {
    if (model[field] === true) throw new TokenizerFileError(file, `unsupported model.${field}: true`);
  }
  if (model.dropout !== undefined && model.dropout !== null && model.dropout !== 0) {
    throw new TokenizerFileError(file, `unsupported model.dropout ${shown(model.dropout)}`);
  }
  const vocab = vocabFromObject(model.vocab, file, 'model.vocab');
  const merges = mergesFromJson(model.merges, file);
  const rawAdded = root.added_tokens ?? [];
  if (!Array.isArray(rawAdded)) throw new TokenizerFileError(file, '"added_tokens" is not an array');
  const addedTokens = rawAdded.map((entry: unknown, i) => addedTokenFromJson(entry, file, `added_tokens[${i}]`));
  return { vocab, merges, addedTokens };
}

function checkByteLevel(value: unknown, file: string, field: string): void {
  if (!isObject(value) || value.type !== 'ByteLevel') {
    throw new TokenizerFileError(file, `unsupported ${field} ${shown(value)} (expected GPT-2's ByteLevel)`);
  }
  if (value.add_prefix_space === true) {
    throw new TokenizerFileError(file, `unsupported ${field}.add_prefix_space: true (GPT-2 adds no prefix space)`);
  }
  if (value.use_regex === false) {
    throw new TokenizerFileError(file, `unsupported ${field}.use_regex: false (GPT-2 splits with its regex)`);
  }
}
