// Finding the added tokens (`<|endoftext|>`, a pad token, a model's own special
// tokens) in a text before it is pre-tokenized: from left to right, at each
// point the token that starts first, the longest where several start there
// (Hugging Face's LeftmostLongest), the text after it searched next.
//
// Linear in the text whatever the tokens. Searching for each token with
// indexOf from the last match would rescan the rest of the text for every
// token that does not occur there, once per match: O(matches × tokens × text)
// for a training text joined with <|endoftext|> and a tokenizer with one more
// added token. Instead one Aho–Corasick automaton holds every token, spelled
// backwards, and reads the text backwards: the state after reading text[i] is
// the longest reversed-token prefix ending there, so its longest output is the
// longest token that starts at i. That is computed for a window of the text at
// a time (the window plus the longest token's length), so memory stays bounded.
import type { AddedToken } from './load.js';

export interface AddedTokenMatch {
  /** Where the token starts, in UTF-16 units. */
  at: number;
  token: AddedToken;
}

/** Positions whose longest token is known at a time (more when a token is longer). */
const WINDOW = 1 << 16;

export class AddedTokenMatcher {
  /** The tokens, longest first; the first of equal contents wins. */
  private readonly tokens: readonly AddedToken[];
  /** Trie of the reversed tokens: node → (UTF-16 unit → child node). Node 0 is the root. */
  private readonly children: Array<Map<number, number>> = [new Map()];
  /** Aho–Corasick failure link: the node of the longest proper suffix that is also in the trie. */
  private readonly fail: number[] = [0];
  /** The longest token that is a suffix of the node's string (index into `tokens`), or -1. */
  private readonly output: number[] = [-1];
  private readonly longest: number;

  constructor(tokens: readonly AddedToken[]) {
    // An empty token would match everywhere and consume nothing.
    this.tokens = tokens.filter((t) => t.content.length > 0).sort((a, b) => b.content.length - a.content.length);
    this.longest = this.tokens.length > 0 ? this.tokens[0]!.content.length : 0;
    if (this.tokens.length > 1) this.build();
  }

  get size(): number {
    return this.tokens.length;
  }

  /** The added tokens in `text`, in order, none overlapping. */
  *matches(text: string): Generator<AddedTokenMatch> {
    if (this.tokens.length === 0) return;
    if (this.tokens.length === 1) {
      // One token (GPT-2's <|endoftext|> alone, nearly always): indexOf from the last match is linear already.
      const token = this.tokens[0]!;
      for (let at = text.indexOf(token.content); at >= 0; at = text.indexOf(token.content, at + token.content.length)) {
        yield { at, token };
      }
      return;
    }
    const window = Math.max(WINDOW, 4 * this.longest);
    const best = new Int32Array(Math.min(window, text.length));
    let windowStart = 0;
    let windowEnd = 0;
    for (let i = 0; i < text.length; ) {
      if (i >= windowEnd) {
        windowStart = i;
        windowEnd = Math.min(text.length, i + window);
        this.longestStarting(text, windowStart, windowEnd, best);
      }
      const k = best[i - windowStart]!;
      if (k < 0) {
        i++;
        continue;
      }
      const token = this.tokens[k]!;
      yield { at: i, token };
      i += token.content.length;
    }
  }

  /**
   * best[i - start] = the index of the longest token starting at i, or -1, for
   * i in [start, end): the text is read backwards from end + longest - 1, so
   * every token that starts before `end` has been read whole.
   */
  private longestStarting(text: string, start: number, end: number, best: Int32Array): void {
    const { children, fail, output } = this;
    let node = 0;
    for (let i = Math.min(text.length, end + this.longest - 1) - 1; i >= start; i--) {
      const unit = text.charCodeAt(i);
      // Each step down the failure links shortens the state, each character lengthens it by one at most: linear.
      let next = children[node]!.get(unit);
      while (next === undefined && node !== 0) {
        node = fail[node]!;
        next = children[node]!.get(unit);
      }
      node = next ?? 0;
      if (i < end) best[i - start] = output[node]!;
    }
  }

  private build(): void {
    const { children, fail, output } = this;
    this.tokens.forEach((token, index) => {
      let node = 0;
      for (let i = token.content.length - 1; i >= 0; i--) {
        const unit = token.content.charCodeAt(i);
        let child = children[node]!.get(unit);
        if (child === undefined) {
          child = children.length;
          children.push(new Map());
          fail.push(0);
          output.push(-1);
          children[node]!.set(unit, child);
        }
        node = child;
      }
      // Tokens come longest first: a node's own token is set once, by the first with that content.
      if (output[node] === -1) output[node] = index;
    });
    // Breadth first, so that a node's failure link (a shorter string) is done before it.
    const queue: number[] = [...children[0]!.values()];
    for (let q = 0; q < queue.length; q++) {
      const node = queue[q]!;
      for (const [unit, child] of children[node]!) {
        let f = fail[node]!;
        while (f !== 0 && !children[f]!.has(unit)) f = fail[f]!;
        const target = children[f]!.get(unit);
        fail[child] = target !== undefined && target !== child ? target : 0;
        // The node's own token is longer than any suffix's; without one, the longest is its suffix's.
        if (output[child] === -1) output[child] = output[fail[child]!]!;
        queue.push(child);
      }
    }
  }
}
