// Made-up posts for dataset tests: unique, clean (no URLs, single spaces, not
// "boring"), of exact lengths when asked, so character counts can be worked
// out by hand.
import type { Post } from '../../../lib/sources/index.js';

const WORDS = ['coffee', 'morning', 'code', 'tests', 'release', 'garden', 'train', 'music', 'books', 'river', 'bread', 'lamp'];

/** Post `i` of `handle`: a sentence of 5 to 16 words. */
export function syntheticPost(handle: string, i: number): Post {
  const count = 5 + ((i * 7) % 12);
  const words = Array.from({ length: count }, (_, j) => WORDS[(i * 5 + j * 3 + handle.length) % WORDS.length]);
  return { id: String(i), text: `${handle} ${i} ${words.join(' ')}`, createdAt: '', isRetweet: false, author: { handle } };
}

export function syntheticPosts(handle: string, count: number): Post[] {
  return Array.from({ length: count }, (_, i) => syntheticPost(handle, i));
}

/** A post whose cleaned text is exactly `length` characters (length ≥ 12). */
export function postOfLength(handle: string, i: number, length: number): Post {
  const head = `tweet ${i} `;
  return { id: String(i), text: head + 'a'.repeat(length - head.length), createdAt: '', isRetweet: false, author: { handle } };
}
