// Making text from outside (names, handles, samples, warnings, file names) safe
// to put into the model card's Markdown, so that the hub (or any CommonMark/GFM
// renderer) shows the literal text: no emphasis, link, image, autolink, raw
// HTML, heading, list, quote, table cell, footnote or math can come out of it.
// test/report-injection.test.ts holds this to a real renderer (marked).

// The ASCII punctuation that Markdown, GFM or the hub's extensions act on. Every
// ASCII punctuation character may be backslash-escaped in CommonMark, and then
// stands for itself; `.`, `:` and `@` are among them so that no bare URL, www.
// domain or e-mail address is autolinked, `$` so that no math is typeset. `'`,
// `"`, `,`, `;`, `?`, `/` and `%` mean nothing outside a link, and are left be.
const MARKDOWN_PUNCTUATION = /[\\`*_{}[\]()#+\-.!|~^$:@=]/g;
// HTML's own characters become entities: renderers keep an entity as text.
const HTML_CHARACTERS: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
// A line break could start a new block (a heading, a list, a fence, or end a table row).
const LINE_BREAKS = /\r\n?|[\n\u2028\u2029]/g;

// Spaces and tabs that start the text: four columns of them would make an
// indented code block after a list marker (fewer are only the marker's gap). As
// character references they are text, not indentation.
const LEADING_BLANKS = /^[ \t]+/;

function leadingBlanks(blanks: string): string {
  if (blanks.length < 4 && !blanks.includes('\t')) return blanks;
  return blanks.replace(/ /g, '&#32;').replace(/\t/g, '&#9;');
}

/**
 * Inline Markdown that renders as `text`, literally, on one line: line breaks
 * become spaces. Safe anywhere inside a line and at its start (a heading or a
 * list marker is escaped too, and leading blanks cannot indent), and inside a
 * table cell (`|` is escaped).
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(LINE_BREAKS, ' ')
    .replace(MARKDOWN_PUNCTUATION, (c) => `\\${c}`)
    .replace(/[&<>]/g, (c) => HTML_CHARACTERS[c]!)
    .replace(LEADING_BLANKS, leadingBlanks);
}

/** Multi-line text (a sample) as inline Markdown: each line escaped, lines joined with <br>. */
export function escapeMarkdownLines(text: string): string {
  return text
    .split(LINE_BREAKS)
    .map((line) => escapeMarkdown(line))
    .join('<br>');
}

/**
 * A code span showing `text` literally (a model or folder name): inside one,
 * nothing is Markdown or HTML. Its fence is one backtick longer than the
 * longest run of backticks in the text, so the text cannot close it; a space
 * pads a text that starts or ends with a backtick. Line breaks become spaces.
 * Not for table cells: GFM splits a cell at `|` even inside a code span.
 */
export function codeSpan(text: string): string {
  const line = text.replace(LINE_BREAKS, ' ');
  let longest = 0;
  for (const run of line.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  const fence = '`'.repeat(longest + 1);
  const pad = line.startsWith('`') || line.endsWith('`') || (line.startsWith(' ') && line.endsWith(' ') && line.trim() !== '') ? ' ' : '';
  return `${fence}${pad}${line}${pad}${fence}`;
}
