// GPT-2's pre-tokenization: the text is cut into words by a regex before BPE, and no merge
// crosses a cut. Case-sensitive, as in GPT-2 (so "'S" is not a contraction). The
// alternatives between them match every character, so the matches tile the text.

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

/** A fresh splitting regex: global regexes keep state in lastIndex, so each user needs its own. */
export function gpt2SplitRegex(): RegExp {
  return new RegExp(GPT2_SPLIT_PATTERN_JS, 'gu');
}

const sharedRegex = gpt2SplitRegex();

/** The words of `text` in order, for tests and inspection (the tokenizer scans in place). */
export function preTokenize(text: string): string[] {
  return Array.from(text.matchAll(sharedRegex), (match) => match[0]);
}
