// Making user-provided strings (names, handles, sample texts, URLs) safe to put
// into Markdown and HTML. Posts are written by strangers: every string that
// did not come from our own code goes through one of these before it is output.

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML content and for attribute values in either kind of quotes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]!);
}

export interface MarkdownEscapeOptions {
  /**
   * Escape `|` as `\|` (default true). Off only for strings handed to a
   * function that escapes pipes itself (renderDataTable), so they are not
   * escaped twice.
   */
  pipes?: boolean;
}

/**
 * Inline Markdown text that renders as the literal string: no emphasis, links,
 * code spans, raw HTML or table breaks can come out of it. HTML characters
 * become entities (Markdown renderers keep entities as text); the punctuation
 * Markdown acts on inside a line is backslash-escaped; line breaks become
 * spaces, since one could start a new block. For text inside a line: the
 * card never starts a line with user text, so `#`, `-` or `1.` cannot open a
 * heading or a list.
 */
export function escapeMarkdown(text: string, options: MarkdownEscapeOptions = {}): string {
  const pipes = options.pipes ?? true;
  return text
    .replace(/\r\n?|[\n\u2028\u2029]/g, ' ')
    .replace(/[\\`*_[\]~]/g, (c) => `\\${c}`)
    .replace(/[&<>]/g, (c) => HTML_ENTITIES[c]!)
    .replace(/\|/g, pipes ? '\\|' : '|');
}

/** Multi-line text (a sample) as inline Markdown: each line escaped, lines joined with <br>. */
export function escapeMarkdownLines(text: string): string {
  return text
    .split(/\r\n?|\n/)
    .map((line) => escapeMarkdown(line))
    .join('<br>');
}

/**
 * The URL when it is an absolute http(s) URL, normalised and with the
 * characters that could end a CSS `url('…')` or an attribute percent-encoded;
 * undefined for anything else (data:, javascript:, relative, malformed), so a
 * bad avatar URL gives a placeholder rather than a broken or hostile image.
 */
export function safeHttpUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  return parsed.href.replace(/['"()<>\\\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}
