// GPT-2's tokenizer against independent references: published vectors, ids that Hugging Face's
// `tokenizers` gave for tricky strings, and gpt-tokenizer's r50k_base on a >1 MB corpus.
import test from 'ava';
import { BytePairEncodingCore } from 'gpt-tokenizer/BytePairEncodingCore';
import r50kRanks from 'gpt-tokenizer/bpeRanks/r50k_base';
import { encode as r50kEncode } from 'gpt-tokenizer/encoding/r50k_base';
import { GPT2_SPLIT_PATTERN_JS, Tokenizer, preTokenize } from '../lib/tokenizer/index.js';
import { BYTE_TO_CHAR } from '../lib/tokenizer/byte-level.js';
import { makeTokenizerCorpus } from '../lib/bench/tokenizer-corpus.js';

const tokenizer = Tokenizer.gpt2();
const EOT = '<|endoftext|>';

// ---------------------------------------------------------------------------------------------
// Oracles

/**
 * gpt-tokenizer 3.4.0 finds special tokens only at the very start of the text (its special-token
 * regex is sticky), so the oracle cuts `<|endoftext|>` out itself, as Hugging Face does.
 */
function withEndOfTextCut(text: string, encodePlain: (s: string) => number[]): number[] {
  const ids: number[] = [];
  text.split(EOT).forEach((part, i) => {
    if (i > 0) ids.push(50256);
    if (part !== '') for (const id of encodePlain(part)) ids.push(id);
  });
  return ids;
}

/** Stock gpt-tokenizer r50k_base (GPT-2's encoding), whose regex uses JavaScript's `\s`. */
const stockOracle = (text: string) => withEndOfTextCut(text, (s) => r50kEncode(s));

/**
 * gpt-tokenizer's BPE with GPT-2's regex as Python and Rust read `\s` (Unicode White_Space).
 * JavaScript's `\s` lacks U+0085 and has U+FEFF, so stock gpt-tokenizer splits " \u0085b" and
 * " \ufeffb" differently from GPT-2; the ids Hugging Face gives for those are pinned below.
 */
const whiteSpaceCore = new BytePairEncodingCore({
  bytePairRankDecoder: r50kRanks,
  specialTokensEncoder: new Map([[EOT, 50256]]),
  tokenSplitRegex: new RegExp(GPT2_SPLIT_PATTERN_JS, 'gu'),
});
const whiteSpaceOracle = (text: string) => withEndOfTextCut(text, (s) => whiteSpaceCore.encodeNative(s, new Set()));

/** Where the stock oracle is known to differ from GPT-2: U+0085 and U+FEFF in the text. */
const JS_WHITESPACE_DISAGREEMENT = /[\u0085\ufeff]/;

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

// ---------------------------------------------------------------------------------------------
// Fixed vectors

test('published GPT-2 test vectors', (t) => {
  t.deepEqual(tokenizer.encode('Hello world'), [15496, 995]);
  t.deepEqual(tokenizer.encode(' Hello world'), [18435, 995]);
  t.deepEqual(tokenizer.encode('“wrote jack a letter”'), [447, 250, 42910, 14509, 257, 3850, 447, 251]);
});

/**
 * Ids from Hugging Face `tokenizers` (Rust, 0.13.4, through its Node binding) loading the
 * tokenizer.json that writeGpt2TokenizerFiles writes; tiktoken 1.0.22's r50k_base and a
 * Python `regex` implementation of GPT-2's encoder.py gave the same ids for every one.
 */
const HUGGING_FACE_IDS: Array<[string, number[]]> = [
  [' \u0085b', [220, 126, 227, 65]],
  [' \ufeffb', [27332, 119, 123, 65]],
  ['a \u0085\u0085 b', [64, 1587, 227, 126, 227, 275]],
  ['x\u0085 \ufeff y', [87, 126, 227, 27332, 119, 123, 331]],
  ['\ufeff\ufeffhi', [171, 119, 123, 171, 119, 123, 5303]],
  ['  \u0085', [220, 1587, 227]],
  ['a\u001c\u001d b \u001e\u001f', [64, 216, 217, 275, 220, 218, 219]],
  ['a\u00a0\u00a0b \u2003 c\u3000\u3000d', [64, 1849, 1849, 65, 564, 225, 269, 5099, 222, 5099, 222, 67]],
  ['line\r\n\r\n  next  \n', [1370, 201, 198, 201, 198, 220, 1306, 220, 220, 198]],
  ['trailing spaces   ', [9535, 4386, 9029, 220, 220, 220]],
  ['\t\tindent', [197, 197, 521, 298]],
  ["I'M SURE you'RE fine, it's 'tis", [40, 6, 44, 311, 11335, 345, 6, 2200, 3734, 11, 340, 338, 705, 48010]],
  ["don't won't y'all'd've", [9099, 470, 1839, 470, 331, 6, 439, 1549, 1053]],
  ['👨‍👩‍👧‍👦 🏳️‍🌈 👍🏽 🇫🇷🇯🇵', [41840, 101, 447, 235, 41840, 102, 447, 235, 41840, 100, 447, 235, 41840, 99, 12520, 237, 111, 37929, 447, 235, 8582, 234, 230, 50169, 235, 8582, 237, 121, 12520, 229, 104, 8582, 229, 115, 8582, 229, 107, 8582, 229, 113]],
  ['日本語のテキスト、中文！', [33768, 98, 17312, 105, 45739, 252, 5641, 24336, 25084, 43302, 23513, 40792, 23877, 229, 171, 120, 223]],
  ['مرحبا بالعالم', [25405, 26897, 148, 255, 39848, 12919, 17550, 101, 23525, 44690, 23525, 25405]],
  ['नमस्ते दुनिया', [11976, 101, 11976, 106, 11976, 116, 24231, 235, 11976, 97, 24231, 229, 28225, 99, 24231, 223, 11976, 101, 11976, 123, 11976, 107, 48077]],
  ['Привет, мир!', [140, 253, 21169, 18849, 38857, 16843, 20375, 11, 12466, 120, 18849, 21169, 0]],
  ['cafe\u0301 café', [66, 8635, 136, 223, 40304]],
  ['https://t.co/AbC123 @jack #NLP $TSLA', [5450, 1378, 83, 13, 1073, 14, 4826, 34, 10163, 2488, 19650, 1303, 45, 19930, 720, 4694, 13534]],
  ['12345678901234567890 3.14159', [10163, 2231, 3134, 4531, 486, 1954, 2231, 30924, 3829, 513, 13, 1415, 19707]],
  ['!!!???...—–', [10185, 28358, 986, 960, 1906]],
  ['constructor toString __proto__ valueOf', [41571, 273, 284, 10100, 11593, 1676, 1462, 834, 1988, 5189]],
  ['a<|endoftext|>b', [64, 50256, 65]],
  ['<|endoftext|><|endoftext|> x <|endoftext|>', [50256, 50256, 2124, 220, 50256]],
];

test('ids match those Hugging Face tokenizers gave for tricky strings', (t) => {
  for (const [text, ids] of HUGGING_FACE_IDS) t.deepEqual(tokenizer.encode(text), ids, JSON.stringify(text));
});

test('the pre-tokenizer reads \\s as Unicode White_Space, not as JavaScript does', (t) => {
  t.deepEqual(preTokenize(' \u0085b'), [' ', '\u0085', 'b']);
  t.deepEqual(preTokenize(' \ufeffb'), [' \ufeff', 'b']);
  t.deepEqual(preTokenize("it's  a\tb  \n"), ['it', "'s", ' ', ' a', '\t', 'b', '  \n']);
});

// ---------------------------------------------------------------------------------------------
// The scanner the tokenizer uses in place of the regex finds the same words

const splitRegex = new RegExp(GPT2_SPLIT_PATTERN_JS, 'gu');
const regexWords = (text: string) => Array.from(text.matchAll(splitRegex), (m) => m[0]);

test('the word scanner splits exactly as GPT-2\'s regex, on every string of up to 3 tricky characters', (t) => {
  // One or more of each class the regex tells apart, and the characters of the contractions.
  const alphabet = [' ', "'", 's', 't', 'r', 'e', 'v', 'l', 'm', 'd', 'S', 'L', 'x', '1', '²', '!', '.', '\n', '\t', '\r',
    '\u0085', '\ufeff', '\u00a0', '\u3000', '\u001c', 'é', '\u0301', '中', '😀', '\u{1d400}', '\u{1d7d9}', '\ud800', '\udc00'];
  let strings = 0;
  let mismatches = 0;
  const check = (text: string) => {
    strings++;
    if (preTokenize(text).join('\u0000') !== regexWords(text).join('\u0000')) {
      if (mismatches++ < 5) t.log('differs:', JSON.stringify(text), preTokenize(text), regexWords(text));
    }
  };
  for (const a of alphabet) {
    check(a);
    for (const b of alphabet) {
      check(a + b);
      for (const c of alphabet) check(a + b + c);
    }
  }
  t.log(`${strings} strings`);
  t.is(mismatches, 0);
});

// ---------------------------------------------------------------------------------------------
// The corpus

const corpus = makeTokenizerCorpus({ bytes: 1_200_000, seed: 20240601 });
const corpusBytes = corpus.reduce((sum, piece) => sum + Buffer.byteLength(piece, 'utf8'), 0);

test(`corpus (${corpus.length} pieces, ${corpusBytes} bytes): same ids as gpt-tokenizer r50k_base`, (t) => {
  t.true(corpusBytes >= 1_000_000);
  let stockCompared = 0;
  let stockMismatches = 0;
  let whiteSpaceMismatches = 0;
  let excluded = 0;
  for (const piece of corpus) {
    const ours = tokenizer.encode(piece);
    if (!sameIds(ours, whiteSpaceOracle(piece))) {
      whiteSpaceMismatches++;
      t.log('mismatch (White_Space oracle):', JSON.stringify(piece).slice(0, 200));
    }
    if (JS_WHITESPACE_DISAGREEMENT.test(piece)) {
      excluded++;
      continue;
    }
    stockCompared++;
    if (!sameIds(ours, stockOracle(piece))) {
      stockMismatches++;
      t.log('mismatch (stock oracle):', JSON.stringify(piece).slice(0, 200));
    }
  }
  t.log(`stock gpt-tokenizer: ${stockCompared} pieces compared, ${stockMismatches} mismatches; ` +
    `${excluded} pieces with U+0085/U+FEFF left to the White_Space oracle`);
  t.log(`gpt-tokenizer BPE + White_Space regex: ${corpus.length} pieces, ${corpusBytes} bytes, ${whiteSpaceMismatches} mismatches`);
  t.is(stockMismatches, 0);
  t.is(whiteSpaceMismatches, 0);
  t.true(excluded < corpus.length / 5);
});

test('the word scanner splits the corpus exactly as the regex', (t) => {
  let mismatches = 0;
  for (const piece of corpus) if (preTokenize(piece).join('\u0000') !== regexWords(piece).join('\u0000')) mismatches++;
  t.is(mismatches, 0);
});

test('decode(encode(x)) === x over the corpus', (t) => {
  let failures = 0;
  for (const piece of corpus) if (tokenizer.decode(tokenizer.encode(piece)) !== piece) failures++;
  t.is(failures, 0);
});

test('long words without spaces take the heap path and still match', (t) => {
  for (const text of ['a'.repeat(10_000), 'ab'.repeat(3000), '0123456789'.repeat(500), '=-'.repeat(2000), 'é'.repeat(700), '😀'.repeat(300)]) {
    t.deepEqual(tokenizer.encode(text), stockOracle(text), `${JSON.stringify(text.slice(0, 10))}… (${text.length})`);
  }
  // Around the switch between the short and the long merge paths.
  for (let n = 40; n <= 60; n++) {
    const text = 'Supercalifragilisticexpialidocious'.repeat(2).slice(0, n);
    t.deepEqual(tokenizer.encode(text), stockOracle(text), `length ${n}`);
  }
});

// ---------------------------------------------------------------------------------------------
// Special tokens, decoding, lookups

test('<|endoftext|> in the text is cut out and becomes 50256', (t) => {
  t.is(tokenizer.eosTokenId, 50256);
  t.deepEqual(tokenizer.encode(EOT), [50256]);
  t.deepEqual(tokenizer.encode(`Hello${EOT} world`), [15496, 50256, 995]);
  // A partial marker is ordinary text.
  t.deepEqual(tokenizer.encode('<|endoftext'), stockOracle('<|endoftext'));
  t.deepEqual(tokenizer.encode('<|endoftext|'), stockOracle('<|endoftext|'));
  t.is(tokenizer.decode([15496, 50256, 995]), `Hello${EOT} world`);
  t.is(tokenizer.decode([15496, 50256, 995], { skipSpecialTokens: true }), 'Hello world');
});

test('decode replaces invalid UTF-8 runs with U+FFFD as Python errors="replace" does', (t) => {
  const byteToken = (byte: number) => tokenizer.tokenToId(BYTE_TO_CHAR[byte]!)!;
  const decodeBytes = (bytes: number[]) => tokenizer.decode(bytes.map(byteToken));
  t.is(decodeBytes([0xe2]), '\ufffd');
  // Expected strings are Python's bytes.decode('utf-8', 'replace') of the same bytes.
  const cases: Array<[number[], string]> = [
    [[0xe2, 0x82], '\ufffd'],
    [[0xe2, 0x82, 0x41], '\ufffdA'],
    [[0xf0, 0x80, 0x80], '\ufffd\ufffd\ufffd'],
    [[0xed, 0xa0, 0x80], '\ufffd\ufffd\ufffd'],
    [[0xc0, 0xaf], '\ufffd\ufffd'],
    [[0xf4, 0x90, 0x80, 0x80], '\ufffd\ufffd\ufffd\ufffd'],
    [[0xf0, 0x9f, 0x98], '\ufffd'],
    [[0xf0, 0x9f, 0x98, 0x80, 0x80], '\u{1f600}\ufffd'],
    [[0xff, 0xfe], '\ufffd\ufffd'],
  ];
  for (const [bytes, expected] of cases) t.is(decodeBytes(bytes), expected, bytes.map((b) => b.toString(16)).join(' '));
  // “ is bytes E2 80 9C, in two tokens: the first alone is a truncated sequence.
  t.is(tokenizer.decode([447]), '\ufffd');
  t.is(tokenizer.decode([447, 250]), '“');
  t.is(tokenizer.decode([447, 250, 42910]), '“wrote');
});

test('a leading U+FEFF survives decode (it is text, not a byte-order mark)', (t) => {
  t.is(tokenizer.decode(tokenizer.encode('\ufeffhi')), '\ufeffhi');
});

test('tokens named like Object.prototype members are ordinary tokens', (t) => {
  // A plain-object vocabulary would answer these with Object.prototype's functions.
  t.is(tokenizer.tokenToId('constructor'), undefined);
  t.is(tokenizer.tokenToId('toString'), undefined);
  t.is(tokenizer.tokenToId('__proto__'), undefined);
  t.is(tokenizer.tokenToId('Ġconstructor'), 23772);
  t.is(tokenizer.tokenToId('prototype'), 38124);
  t.deepEqual(tokenizer.encode(' constructor prototype'), [23772, 14879]);
  t.is(tokenizer.idToToken(262), 'Ġthe');
  t.is(tokenizer.tokenToId('Ġthe'), 262);
  t.is(tokenizer.vocabSize, 50257);
  t.is(tokenizer.idToToken(50256), EOT);
  t.is(tokenizer.idToToken(50257), undefined);
});

test('decode refuses ids outside the vocabulary', (t) => {
  t.throws(() => tokenizer.decode([15496, 50257]), { instanceOf: RangeError, message: /50257/ });
  t.throws(() => tokenizer.decode([-1]), { instanceOf: RangeError });
});

test('a lone surrogate is encoded as U+FFFD, as TextEncoder does', (t) => {
  t.deepEqual(tokenizer.encode('a\ud800b'), tokenizer.encode('a\ufffdb'));
});

test('the word cache stays bounded and answers stay the same after it is emptied', (t) => {
  const fresh = Tokenizer.gpt2();
  const words = Array.from({ length: 120_000 }, (_, i) => `w${i.toString(36)}`).join(' ');
  const first = fresh.encode(words);
  t.deepEqual(fresh.encode(words), first);
  t.deepEqual(first.slice(0, 50), stockOracle(words).slice(0, 50));
  t.is(fresh.decode(first), words);
});

test('ArrayLike ids (typed arrays) decode too', (t) => {
  t.is(tokenizer.decode(Int32Array.from([15496, 995])), 'Hello world');
});
