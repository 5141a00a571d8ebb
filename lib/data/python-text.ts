// Python's idea of whitespace, so that cleaning splits and strips tweets exactly
// as the original tool (Python 3 `str.split()`, `str.strip()`, `re` `\s`) did.
//
// JavaScript's `\s` and `trim()` disagree with Python on a few characters:
// Python counts U+001C–U+001F and U+0085 as whitespace, JavaScript does not;
// JavaScript counts U+FEFF as whitespace, Python does not. A tweet containing
// one of them would otherwise be cleaned (and counted) differently.
//
// Written as loops over the text rather than regular expressions: each reads
// every character once, whatever the text. (`/\s+$/` — strip's obvious regex —
// rescans a long run of whitespace from each of its characters when the run
// is not at the end: quadratic in the run.)

/** The characters for which Python's `str.isspace()` is true, as a regex class body. */
export const PY_WHITESPACE_CLASS =
  '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

/** Python's `str.isspace()` for one UTF-16 unit (every whitespace character is one unit). */
export function isPyWhitespace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d) || (code >= 0x1c && code <= 0x1f);
  if (code < 0x85) return false;
  return (
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

/** Python's `text.split()`: the words between runs of whitespace, no empty strings. */
export function pySplit(text: string): string[] {
  const words: string[] = [];
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    if (isPyWhitespace(text.charCodeAt(i))) {
      if (start >= 0) words.push(text.slice(start, i));
      start = -1;
    } else if (start < 0) start = i;
  }
  if (start >= 0) words.push(text.slice(start));
  return words;
}

/** Python's `text.strip()`. */
export function pyStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isPyWhitespace(text.charCodeAt(start))) start++;
  while (end > start && isPyWhitespace(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** Python's `len(text)`: Unicode code points, not UTF-16 units (an emoji counts once). */
export function pyLength(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // A high surrogate followed by a low one is a single code point.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    length++;
  }
  return length;
}
