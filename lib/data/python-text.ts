// Python's idea of whitespace, so that cleaning splits and strips tweets exactly
// as the original tool (Python 3 `str.split()`, `str.strip()`, `re` `\s`) did.
//
// JavaScript's `\s` and `trim()` disagree with Python on a few characters:
// Python counts U+001C–U+001F and U+0085 as whitespace, JavaScript does not;
// JavaScript counts U+FEFF as whitespace, Python does not. A tweet containing
// one of them would otherwise be cleaned (and counted) differently.

/** The characters for which Python's `str.isspace()` is true, as a regex class body. */
export const PY_WHITESPACE_CLASS =
  '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

const runOfWhitespace = new RegExp(`[${PY_WHITESPACE_CLASS}]+`, 'u');
const leadingWhitespace = new RegExp(`^[${PY_WHITESPACE_CLASS}]+`, 'u');
const trailingWhitespace = new RegExp(`[${PY_WHITESPACE_CLASS}]+$`, 'u');

/** Python's `text.split()`: the words between runs of whitespace, no empty strings. */
export function pySplit(text: string): string[] {
  return text.split(runOfWhitespace).filter((word) => word.length > 0);
}

/** Python's `text.strip()`. */
export function pyStrip(text: string): string {
  return text.replace(leadingWhitespace, '').replace(trailingWhitespace, '');
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
