// GPT-2's pre-tokenization: the text is cut into words by a regex before BPE, and no merge
// crosses a cut. Case-sensitive, as in GPT-2 (so "'S" is not a contraction). The
// alternatives between them match every character, so the matches tile the text.
// The tokenizer runs the same rules as a scanner (word-scanner.ts); the regex here is the
// specification that the tests hold the scanner to.
import { wordEnd } from './word-scanner.js';

/** The pattern as GPT-2's encoder.py (Python's `regex` module) and Hugging Face write it. */
export const GPT2_SPLIT_PATTERN = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;

/**
 * What `\s` means to Python's `regex` (GPT-2's encoder.py, Hugging Face's slow tokenizer), to
 * Hugging Face's `tokenizers` and to tiktoken: the Unicode White_Space characters. JavaScript's
 * `\s` differs in two places: it lacks U+0085 (NEXT LINE) and has U+FEFF (the BOM, which
 * Unicode files as a format character). Left as `\s`, " \u0085b" and " \ufeffb" would split
 * differently from GPT-2 (checked against all three), so the JS pattern names the property.
 */
export const WHITE_SPACE_CLASS = String.raw`\p{White_Space}`;

/** GPT2_SPLIT_PATTERN for a JavaScript RegExp with the `u` flag. */
export const GPT2_SPLIT_PATTERN_JS =
  String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^${WHITE_SPACE_CLASS}\p{L}\p{N}]+` +
  String.raw`|[${WHITE_SPACE_CLASS}]+(?![^${WHITE_SPACE_CLASS}])|[${WHITE_SPACE_CLASS}]+`;

/** The words of `text` in order, as the tokenizer's scanner finds them (for tests and inspection). */
export function preTokenize(text: string): string[] {
  const words: string[] = [];
  for (let start = 0; start < text.length; ) {
    const end = wordEnd(text, start);
    words.push(text.slice(start, end));
    start = end;
  }
  return words;
}
