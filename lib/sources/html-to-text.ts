// Mastodon gives a status as HTML; the training text wants what the person typed.

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
};

/**
 * `<p>a<br>b</p><p>c</p>` → "a\nb\n\nc": a line break for `<br>`, a blank line
 * between paragraphs (how the post was typed), every other tag dropped (links
 * keep their text, which holds the URL), then entities decoded — last, so that
 * an escaped `&lt;b&gt;` stays text rather than becoming a tag to strip.
 */
export function htmlToText(html: string): string {
  const text = html
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/p>\s*<p(\s[^>]*)?>/gi, '\n\n');
  return decodeEntities(dropTags(text));
}

/**
 * `text.replace(/<[^>]*>/g, '')` in one pass. The regex, on a text with many
 * `<` and no `>` after them ("<<<<…"), scans to the end from every `<`:
 * quadratic. Here: each tag runs from a `<` to the first `>` after it, and once
 * a `<` has no `>` after it, no later one has either.
 */
function dropTags(text: string): string {
  let out = '';
  let from = 0;
  for (;;) {
    const open = text.indexOf('<', from);
    if (open < 0) break;
    const close = text.indexOf('>', open + 1);
    if (close < 0) break;
    out += text.slice(from, open);
    from = close + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (entity, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
    }
    return NAMED_ENTITIES[name.toLowerCase()] ?? entity;
  });
}
