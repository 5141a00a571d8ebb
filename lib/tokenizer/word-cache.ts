// A bounded cache of word → token ids, looked up by a span of the text being encoded rather
// than by a string: hashing and comparing the characters in place means a hit (nearly every
// word of real text) allocates nothing. A Map would need each word cut out as a new string
// first, and hashes it anyway.
//
// Open addressing with linear probing; the ids of all entries live in one Int32Array pool.
// When the cache holds `maxEntries` words it is emptied (simpler than LRU, and as good for
// the one-pass-over-a-corpus pattern that matters here).
//
// A lookup looks at MAX_PROBES slots at most, and a word whose slot and the ones after it
// are taken that far is not cached. The hash is no secret: posts written to collide would
// otherwise pile into one run of slots, and every lookup would walk the whole run
// (quadratic in the number of such words). At half load an honest run is rarely longer
// than a few slots, so the bound costs nothing on real text.

/** Slots a lookup or an insertion looks at, at most. */
export const MAX_PROBES = 16;

export class WordCache {
  private readonly mask: number;
  private readonly keys: Array<string | undefined>;
  private readonly hashes: Int32Array;
  private readonly starts: Int32Array;
  private readonly lengths: Int32Array;
  private pool: Int32Array;
  private poolUsed = 0;
  private entries = 0;

  constructor(readonly maxEntries: number) {
    let capacity = 1024;
    while (capacity < maxEntries * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.keys = new Array<string | undefined>(capacity).fill(undefined);
    this.hashes = new Int32Array(capacity);
    this.starts = new Int32Array(capacity);
    this.lengths = new Int32Array(capacity);
    this.pool = new Int32Array(maxEntries * 4);
  }

  get size(): number {
    return this.entries;
  }

  /** FNV-1a over the UTF-16 code units of text[start, end). */
  static hash(text: string, start: number, end: number): number {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    return h;
  }

  /**
   * If text[start, end) (with `hash` from WordCache.hash) is cached, push its ids to `out`
   * and return true.
   */
  pushIfCached(text: string, start: number, end: number, hash: number, out: number[]): boolean {
    const length = end - start;
    let slot = hash & this.mask;
    for (let probe = 0; probe < MAX_PROBES; probe++) {
      const key = this.keys[slot];
      if (key === undefined) return false;
      if (this.hashes[slot] === hash && key.length === length && sameChars(key, text, start)) {
        const pool = this.pool;
        for (let i = this.starts[slot]!, stop = i + this.lengths[slot]!; i < stop; i++) out.push(pool[i]!);
        return true;
      }
      slot = (slot + 1) & this.mask;
    }
    return false;
  }

  /** Remember `ids` (the slice `idsStart..` of `ids`) for `word`, which has hash `hash`. */
  set(word: string, hash: number, ids: readonly number[], idsStart: number): void {
    if (this.entries >= this.maxEntries) this.clear();
    let slot = hash & this.mask;
    let probe = 0;
    while (this.keys[slot] !== undefined && probe < MAX_PROBES) {
      slot = (slot + 1) & this.mask;
      probe++;
    }
    if (probe === MAX_PROBES) return;
    const count = ids.length - idsStart;
    if (this.poolUsed + count > this.pool.length) {
      const grown = new Int32Array(Math.max(this.pool.length * 2, this.poolUsed + count));
      grown.set(this.pool.subarray(0, this.poolUsed));
      this.pool = grown;
    }
    this.keys[slot] = word;
    this.hashes[slot] = hash;
    this.starts[slot] = this.poolUsed;
    this.lengths[slot] = count;
    for (let i = idsStart; i < ids.length; i++) this.pool[this.poolUsed++] = ids[i]!;
    this.entries++;
  }

  clear(): void {
    this.keys.fill(undefined);
    this.poolUsed = 0;
    this.entries = 0;
  }
}

function sameChars(key: string, text: string, start: number): boolean {
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) !== text.charCodeAt(start + i)) return false;
  return true;
}
