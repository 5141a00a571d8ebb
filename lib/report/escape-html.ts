// Making text from outside (names, handles, samples, file names) safe to put
// into HTML: report.html and the HTML block at the top of the model card. Every
// string that did not come from tweetsmith's own code goes through escapeHtml
// before it is output; it is never put into a <script> or <style> element (the
// report has no script, and its only style is our own).

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML content and for attribute values in either kind of quotes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]!);
}

/**
 * Text for inside a raw HTML block of Markdown (the card's header): escaped as
 * HTML, and on one line. A blank line would end the HTML block, and what
 * follows it would be read as Markdown (an image, a link) rather than shown;
 * `|` as an entity too, so that a renderer that mistook the line for a table
 * row would not split it there.
 */
export function escapeHtmlLine(text: string): string {
  return escapeHtml(text.replace(/[\r\n\u2028\u2029]+/g, ' ')).replace(/\|/g, '&#124;');
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

/**
 * report.html loads nothing from the network (its Content-Security-Policy says
 * `img-src data:`), so a picture must be inside the page. Larger ones are left
 * out: a data: URI is kept in the page as it is, and a report is not the place
 * for megabytes of picture.
 */
export const MAX_INLINE_IMAGE_CHARS = 256 * 1024;

/**
 * The URL when it is a base64 data: URI of a raster image (PNG, JPEG, GIF,
 * WebP) of at most MAX_INLINE_IMAGE_CHARS characters; undefined for anything
 * else. Its characters are all safe inside a CSS `url('…')` in an attribute.
 */
export function safeDataImageUrl(url: string | undefined): string | undefined {
  if (url === undefined || url.length > MAX_INLINE_IMAGE_CHARS) return undefined;
  return /^data:image\/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/]+={0,2}$/.test(url) ? url : undefined;
}
