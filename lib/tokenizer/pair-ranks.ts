// The merge table as an open-addressing hash from a pair of token ids to the pair's rank.
// A JS Map keyed by `left * vocabSize + right` would need keys above 2^31, which V8 stores
// as heap numbers and hashes slowly; two Int32Array columns keep the hot lookup allocation
// free and about twice as fast.

export const NO_RANK = 0x7fffffff;

export class PairRanks {
  private readonly mask: number;
  private readonly lefts: Int32Array;
  private readonly rights: Int32Array;
  private readonly ranks: Int32Array;
  /** The id of the token each rank's merge produces. */
  readonly mergedIds: Int32Array;

  /** `pairs[rank]` = [left id, right id, merged id]. A repeated pair keeps its last rank, as Hugging Face's does. */
  constructor(pairs: ReadonlyArray<readonly [number, number, number]>) {
    let capacity = 16;
    while (capacity < pairs.length * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.lefts = new Int32Array(capacity).fill(-1);
    this.rights = new Int32Array(capacity);
    this.ranks = new Int32Array(capacity);
    this.mergedIds = new Int32Array(pairs.length);
    pairs.forEach(([left, right, merged], rank) => {
      this.mergedIds[rank] = merged;
      let slot = this.slotOf(left, right);
      while (this.lefts[slot] !== -1 && !(this.lefts[slot] === left && this.rights[slot] === right)) {
        slot = (slot + 1) & this.mask;
      }
      this.lefts[slot] = left;
      this.rights[slot] = right;
      this.ranks[slot] = rank;
    });
  }

  private slotOf(left: number, right: number): number {
    // Multiply-xorshift mixing so that the low bits used as the slot depend on all input bits.
    let h = Math.imul(left, 0x9e3779b1) ^ right;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    return (h ^ (h >>> 13)) & this.mask;
  }

  /** The rank of merging `left` then `right`, or NO_RANK when they do not merge. */
  rank(left: number, right: number): number {
    let slot = this.slotOf(left, right);
    for (;;) {
      const l = this.lefts[slot]!;
      if (l === left && this.rights[slot] === right) return this.ranks[slot]!;
      if (l === -1) return NO_RANK;
      slot = (slot + 1) & this.mask;
    }
  }
}
