// Byte-pair merging of one pre-tokenized word, on token ids rather than strings.
//
// GPT-2's rule: among adjacent pairs, merge the one whose merge has the lowest rank; when
// that pair occurs more than once, the leftmost goes first (a run "a a a" with the merge
// "a a" gives "aa a"). Repeat until no adjacent pair has a merge.
//
// Two implementations of that rule, chosen by length:
// - short words (nearly all of them): a flat array and a scan for the lowest rank per merge,
//   O(n²) but with n a handful of bytes and no allocation;
// - long words (a run of 10 000 'a's, a URL-free blob of base64): a linked list of symbols
//   and a binary heap of (rank, position), O(n log n).

import { NO_RANK, type PairRanks } from './pair-ranks.js';

/** Words with more symbols than this take the heap path. */
const SHORT_WORD_LIMIT = 48;
const POSITION_SCALE = 2 ** 32;

export class BpeMerger {
  private readonly ranks: Int32Array = new Int32Array(SHORT_WORD_LIMIT);

  constructor(private readonly pairs: PairRanks) {}

  /** Merge `symbols[0..length)` (token ids, one a byte) and push the resulting ids to `out`. */
  merge(symbols: Int32Array, length: number, out: number[]): void {
    if (length <= SHORT_WORD_LIMIT) this.mergeShort(symbols, length, out);
    else this.mergeLong(symbols, length, out);
  }

  private mergeShort(symbols: Int32Array, length: number, out: number[]): void {
    const pairs = this.pairs;
    const ranks = this.ranks; // ranks[i]: rank of merging symbols[i] and symbols[i + 1]
    let n = length;
    for (let i = 0; i + 1 < n; i++) ranks[i] = pairs.rank(symbols[i]!, symbols[i + 1]!);
    while (n > 1) {
      let best = NO_RANK;
      let at = -1;
      for (let i = 0; i + 1 < n; i++) {
        if (ranks[i]! < best) {
          best = ranks[i]!;
          at = i;
        }
      }
      if (at < 0) break;
      symbols[at] = pairs.mergedIds[best]!;
      // Close the gap left by symbols[at + 1]; the pair ranks shift with it.
      for (let i = at + 1; i + 1 < n; i++) symbols[i] = symbols[i + 1]!;
      for (let i = at; i + 2 < n; i++) ranks[i] = ranks[i + 1]!;
      n--;
      if (at > 0) ranks[at - 1] = pairs.rank(symbols[at - 1]!, symbols[at]!);
      if (at + 1 < n) ranks[at] = pairs.rank(symbols[at]!, symbols[at + 1]!);
    }
    for (let i = 0; i < n; i++) out.push(symbols[i]!);
  }

  private mergeLong(symbols: Int32Array, length: number, out: number[]): void {
    const pairs = this.pairs;
    // A doubly linked list over positions: a merge keeps the left symbol's position and
    // unlinks the right one, so positions stay in text order for the heap's tie-break.
    const next = new Int32Array(length);
    const prev = new Int32Array(length);
    // pairRank[i]: rank of the pair starting at live position i now. A heap entry whose
    // rank differs is stale (its pair changed since it was pushed) and is skipped.
    const pairRank = new Int32Array(length).fill(NO_RANK);
    const heap = new MinHeap(3 * length);
    for (let i = 0; i < length; i++) {
      next[i] = i + 1 < length ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const update = (at: number): void => {
      const right = next[at]!;
      const rank = right < 0 ? NO_RANK : pairs.rank(symbols[at]!, symbols[right]!);
      pairRank[at] = rank;
      if (rank !== NO_RANK) heap.push(rank * POSITION_SCALE + at);
    };
    for (let i = 0; i + 1 < length; i++) update(i);

    while (heap.size > 0) {
      const key = heap.pop();
      const rank = Math.floor(key / POSITION_SCALE);
      const at = key - rank * POSITION_SCALE;
      if (pairRank[at] !== rank) continue;
      const right = next[at]!;
      symbols[at] = pairs.mergedIds[rank]!;
      pairRank[right] = NO_RANK;
      const after = next[right]!;
      next[at] = after;
      if (after >= 0) prev[after] = at;
      update(at);
      if (prev[at]! >= 0) update(prev[at]!);
    }
    for (let i = 0; i >= 0; i = next[i]!) out.push(symbols[i]!);
  }
}

/** A binary min-heap of non-negative doubles (rank·2³² + position: exact below 2⁵³). */
class MinHeap {
  private readonly items: Float64Array;
  size = 0;

  constructor(capacity: number) {
    this.items = new Float64Array(Math.max(1, capacity));
  }

  push(value: number): void {
    const items = this.items;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]! <= value) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number {
    const items = this.items;
    const top = items[0]!;
    const last = items[--this.size]!;
    const n = this.size;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && items[child + 1]! < items[child]!) child++;
      if (items[child]! >= last) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }
}
