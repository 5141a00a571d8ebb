// GPT-2's byte-level BPE tokenizer: the same ids as Hugging Face's GPT2Tokenizer(Fast)
// and OpenAI's encoder for any text.
//
// encode: cut out added tokens (`<|endoftext|>` → 50256, as Hugging Face does; added-tokens.ts) → split
// each remaining piece into words by GPT-2's regex (run as a scanner, word-scanner.ts) →
// UTF-8 bytes of each word → BPE merges (bpe-merge.ts), or the word cache → ids.
// decode: ids → bytes → UTF-8, each invalid run replaced by U+FFFD (as Python's
// errors="replace" and Rust's from_utf8_lossy do: one U+FFFD per maximal invalid subpart).
import { END_OF_TEXT } from './files.js';
import { AddedTokenMatcher } from './added-tokens.js';
import { BpeMerger } from './bpe-merge.js';
import { TokenizerFileError } from './load.js';
import { gpt2Source, readTokenizerDir } from './read-dir.js';
import { TokenizerTables } from './tables.js';
import { WordCache } from './word-cache.js';
import { wordEnd } from './word-scanner.js';

export interface DecodeOptions {
  /** Leave out special tokens such as `<|endoftext|>` (default false). */
  skipSpecialTokens?: boolean;
}

/** Words up to this many UTF-16 units are remembered; longer ones are rare and costly to keep. */
const CACHE_WORD_LIMIT = 256;
/** The word cache is emptied when it reaches this many entries, bounding its memory. */
const CACHE_ENTRY_LIMIT = 100_000;

let gpt2Tables: TokenizerTables | undefined;

export class Tokenizer {
  readonly eosTokenId: number;
  readonly vocabSize: number;

  private readonly tables: TokenizerTables;
  private readonly merger: BpeMerger;
  private readonly added: AddedTokenMatcher;
  private readonly cache = new WordCache(CACHE_ENTRY_LIMIT);
  /** The UTF-8 bytes of the word being merged, as single-byte token ids; grows as needed. */
  private symbols = new Int32Array(256);
  // ignoreBOM: a leading U+FEFF is text here, not a byte-order mark to drop.
  private readonly utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

  /** Use `Tokenizer.fromDir` or `Tokenizer.gpt2`. */
  private constructor(tables: TokenizerTables, where: string) {
    this.tables = tables;
    this.merger = new BpeMerger(tables.pairs);
    this.added = new AddedTokenMatcher(tables.addedTokens);
    this.vocabSize = tables.vocabSize;
    const eos = tables.tokenToIdMap.get(END_OF_TEXT);
    if (eos === undefined) throw new TokenizerFileError(where, `the vocabulary has no ${END_OF_TEXT} token`);
    this.eosTokenId = eos;
  }

  /** The tokenizer of a model directory: `tokenizer.json`, or `vocab.json` + `merges.txt`. */
  static async fromDir(dir: string): Promise<Tokenizer> {
    return new Tokenizer(new TokenizerTables(await readTokenizerDir(dir)), dir);
  }

  /** GPT-2's tokenizer, from the vocabulary files in node_modules. Tables are shared, the cache is not. */
  static gpt2(): Tokenizer {
    gpt2Tables ??= new TokenizerTables(gpt2Source());
    return new Tokenizer(gpt2Tables, 'gpt2');
  }

  encode(text: string): number[] {
    const out: number[] = [];
    // Added tokens first; the text between them is encoded as if the rest were not there.
    let start = 0;
    for (const { at, token } of this.added.matches(text)) {
      this.encodeOrdinary(text, start, at, out);
      out.push(token.id);
      start = at + token.content.length;
    }
    this.encodeOrdinary(text, start, text.length, out);
    return out;
  }

  decode(ids: ArrayLike<number>, opts: DecodeOptions = {}): string {
    const { idToBytes, specialIds } = this.tables;
    const skipSpecial = opts.skipSpecialTokens === true;
    let length = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const bytes = idToBytes[id];
      if (bytes === undefined) throw new RangeError(`tweetsmith: token id ${id} (at ${i}) is not in the vocabulary (size ${this.vocabSize})`);
      if (!(skipSpecial && specialIds.has(id))) length += bytes.length;
    }
    const buffer = new Uint8Array(length);
    let at = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (skipSpecial && specialIds.has(id)) continue;
      const bytes = idToBytes[id]!;
      buffer.set(bytes, at);
      at += bytes.length;
    }
    return this.utf8.decode(buffer);
  }

  tokenToId(token: string): number | undefined {
    return this.tables.tokenToIdMap.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.tables.idToTokenList[id];
  }

  /** text[start, end), which holds no added token: split into words, each merged or found in the cache. */
  private encodeOrdinary(text: string, start: number, end: number, out: number[]): void {
    // The scanner reads to the end of its string, so a piece before an added token is cut out.
    if (end < text.length) {
      if (start === end) return;
      text = text.slice(start, end);
      start = 0;
      end = text.length;
    }
    const cache = this.cache;
    for (let wordStart = start; wordStart < end; ) {
      const wordStop = wordEnd(text, wordStart);
      const cacheable = wordStop - wordStart <= CACHE_WORD_LIMIT;
      const hash = cacheable ? WordCache.hash(text, wordStart, wordStop) : 0;
      if (!(cacheable && cache.pushIfCached(text, wordStart, wordStop, hash, out))) {
        const idsStart = out.length;
        // wordToByteIds may replace this.symbols with a larger array: read it after.
        const length = this.wordToByteIds(text, wordStart, wordStop);
        this.merger.merge(this.symbols, length, out);
        if (cacheable) cache.set(text.slice(wordStart, wordStop), hash, out, idsStart);
      }
      wordStart = wordStop;
    }
  }

  /**
   * Write the UTF-8 bytes of word = text[start, end) into `this.symbols` as single-byte token
   * ids and return their count. A lone surrogate (not valid text) becomes U+FFFD, as
   * TextEncoder makes it.
   */
  private wordToByteIds(text: string, start: number, end: number): number {
    if (this.symbols.length < (end - start) * 3) this.symbols = new Int32Array((end - start) * 3);
    const symbols = this.symbols;
    const byteIds = this.tables.byteIds;
    let n = 0;
    for (let i = start; i < end; i++) {
      let code = text.charCodeAt(i);
      if (code < 0x80) {
        symbols[n++] = byteIds[code]!;
        continue;
      }
      if (code < 0x800) {
        symbols[n++] = byteIds[0xc0 | (code >> 6)]!;
        symbols[n++] = byteIds[0x80 | (code & 0x3f)]!;
        continue;
      }
      if (code >= 0xd800 && code <= 0xdfff) {
        const low = i + 1 < end ? text.charCodeAt(i + 1) : 0;
        if (code <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
          code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
          i++;
          symbols[n++] = byteIds[0xf0 | (code >> 18)]!;
          symbols[n++] = byteIds[0x80 | ((code >> 12) & 0x3f)]!;
          symbols[n++] = byteIds[0x80 | ((code >> 6) & 0x3f)]!;
          symbols[n++] = byteIds[0x80 | (code & 0x3f)]!;
          continue;
        }
        code = 0xfffd;
      }
      symbols[n++] = byteIds[0xe0 | (code >> 12)]!;
      symbols[n++] = byteIds[0x80 | ((code >> 6) & 0x3f)]!;
      symbols[n++] = byteIds[0x80 | (code & 0x3f)]!;
    }
    return n;
  }
}
