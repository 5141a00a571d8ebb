// The immutable lookup tables of a byte-level BPE tokenizer, built once from a vocabulary,
// its merges and its added tokens, checked so that a bad file fails here, with a message
// naming the file and the entry, rather than as a wrong encoding later.
import { BYTE_TO_CHAR, tokenToBytes } from './byte-level.js';
import { type AddedToken, type Merges, type Vocab, TokenizerFileError, shown } from './load.js';
import { PairRanks } from './pair-ranks.js';

export interface TokenizerSource {
  vocab: Vocab;
  merges: Merges;
  addedTokens: AddedToken[];
  /** What the vocabulary and merges were read from, for messages. */
  vocabFile: string;
  mergesFile: string;
  /** Where each merge came from (`line 7`), for messages; defaults to its index. */
  mergeWhere?: (rank: number) => string;
}

export class TokenizerTables {
  readonly tokenToIdMap: Map<string, number>;
  readonly idToTokenList: Array<string | undefined>;
  /** The bytes each id decodes to; undefined for ids that are no token. */
  readonly idToBytes: Array<Uint8Array | undefined>;
  /** Ids of special added tokens, which `decode(…, {skipSpecialTokens: true})` leaves out. */
  readonly specialIds: ReadonlySet<number>;
  /** Added tokens, longest first, cut out of the text before pre-tokenization. */
  readonly addedTokens: readonly AddedToken[];
  /** The id of the single-byte token for each byte value. */
  readonly byteIds: Int32Array;
  readonly pairs: PairRanks;
  readonly vocabSize: number;

  constructor(source: TokenizerSource) {
    const { vocab, merges } = source;
    this.tokenToIdMap = new Map(vocab);
    const encoder = new TextEncoder();

    // Added tokens may reuse a vocabulary id (GPT-2's <|endoftext|>) or extend it.
    const idOwner = new Map<number, string>();
    for (const [token, id] of vocab) idOwner.set(id, token);
    for (const token of source.addedTokens) {
      const existing = this.tokenToIdMap.get(token.content);
      if (existing !== undefined && existing !== token.id) {
        throw new TokenizerFileError(source.vocabFile, `added token ${shown(token.content)} has id ${token.id} but the vocabulary gives it ${existing}`);
      }
      // an id is one token: decoding must not depend on which of two contents wins
      const owner = idOwner.get(token.id);
      if (owner !== undefined && owner !== token.content) {
        throw new TokenizerFileError(source.vocabFile, `added token ${shown(token.content)} has id ${token.id}, which is already ${shown(owner)}`);
      }
      idOwner.set(token.id, token.content);
      this.tokenToIdMap.set(token.content, token.id);
    }
    let maxId = -1;
    for (const id of this.tokenToIdMap.values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;

    this.idToTokenList = new Array<string | undefined>(this.vocabSize);
    this.idToBytes = new Array<Uint8Array | undefined>(this.vocabSize);
    for (const [token, id] of this.tokenToIdMap) {
      this.idToTokenList[id] = token;
      // A token that is not in byte-level form decodes to its own UTF-8, as the
      // ByteLevel decoder of Hugging Face's `tokenizers` does.
      this.idToBytes[id] = tokenToBytes(token) ?? encoder.encode(token);
    }
    for (const token of source.addedTokens) this.idToBytes[token.id] = encoder.encode(token.content);
    this.specialIds = new Set(source.addedTokens.filter((t) => t.special).map((t) => t.id));
    this.addedTokens = [...source.addedTokens].sort((a, b) => b.content.length - a.content.length);

    this.byteIds = new Int32Array(256);
    for (let byte = 0; byte < 256; byte++) {
      const id = vocab.get(BYTE_TO_CHAR[byte]!);
      if (id === undefined) {
        throw new TokenizerFileError(source.vocabFile, `not a byte-level vocabulary: no token for byte ${byte} (${JSON.stringify(BYTE_TO_CHAR[byte])})`);
      }
      this.byteIds[byte] = id;
    }

    const where = source.mergeWhere ?? ((rank: number) => `merge ${rank}`);
    const triples = merges.map(([left, right], rank): [number, number, number] => {
      const leftId = vocab.get(left);
      const rightId = vocab.get(right);
      const mergedId = vocab.get(left + right);
      const missing = leftId === undefined ? left : rightId === undefined ? right : mergedId === undefined ? left + right : undefined;
      if (missing !== undefined) {
        throw new TokenizerFileError(source.mergesFile, `${where(rank)}: merge "${left} ${right}" uses ${JSON.stringify(missing)}, which is not in the vocabulary (${source.vocabFile})`);
      }
      return [leftId!, rightId!, mergedId!];
    });
    this.pairs = new PairRanks(triples);
  }
}
