// GET a JSON document from a public API (X, Bluesky, Mastodon) with plain
// fetch, waiting out HTTP 429 (up to a cap). What a non-2xx status means is
// left to the caller, which knows the service.
//
// The reply is untrusted: its body is read chunk by chunk and counted, and a
// body larger than `maxBytes` is cut off with an error rather than buffered;
// errors never carry the request (whose headers may hold a bearer token) nor
// fetch's own error as a cause.
import { SOURCE_LIMITS } from '../defaults.js';
import { SourceError } from './errors.js';
import { waitForRateLimit, type Clock, type ProgressSink } from './rate-limit-wait.js';

export interface JsonResponse {
  status: number;
  headers: Headers;
  /** The parsed body; undefined when it was not JSON. */
  body: unknown;
}

export interface GetJsonOptions {
  fetch: typeof fetch;
  clock: Clock;
  progress: ProgressSink;
  /** When a 429 says the limit resets (ms since the epoch), from the service's own header. */
  rateLimitResetMs(headers: Headers): number | undefined;
  /** Extra request headers (the X API's authorization). */
  headers?: Record<string, string>;
  /** The largest body read (default SOURCE_LIMITS.maxJsonReplyBytes). */
  maxBytes?: number;
  /** The longest rate-limit wait (default SOURCE_LIMITS.maxRateLimitWaitMs). */
  maxRateLimitWaitMs?: number;
}

const MAX_RATE_LIMIT_WAITS = 10;

/** The URL without its query, for messages (short, and a query may hold a cursor nobody needs to read). */
export function shortUrl(url: string): string {
  const { origin, pathname } = new URL(url);
  return origin + pathname;
}

export async function getJson(source: string, url: string, options: GetJsonOptions): Promise<JsonResponse> {
  const maxBytes = options.maxBytes ?? SOURCE_LIMITS.maxJsonReplyBytes;
  for (let waits = 0; ; waits++) {
    let response: Response;
    try {
      response = await options.fetch(url, { headers: { accept: 'application/json', ...options.headers } });
    } catch (err) {
      const reason = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
      throw new SourceError(source, `cannot reach ${new URL(url).host} (${reason})`, 'check your network connection and the host name');
    }
    const text = await readBody(source, url, response, maxBytes);
    if (response.status === 429 && waits < MAX_RATE_LIMIT_WAITS) {
      const resetMs = options.rateLimitResetMs(response.headers) ?? options.clock.now() + 60_000;
      await waitForRateLimit(source, resetMs, options.clock, options.progress, options.maxRateLimitWaitMs);
      continue;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: response.status, headers: response.headers, body };
  }
}

/** The body as text, refused (before or while reading) once it passes `maxBytes`. */
async function readBody(source: string, url: string, response: Response, maxBytes: number): Promise<string> {
  const tooLarge = (size: string) =>
    new SourceError(
      source,
      `${shortUrl(url)} answered with ${size}, more than the ${maxBytes} bytes a reply may have`,
      'this is not what the service sends; check the server address, or allow more (maxJsonReplyBytes)',
    );
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge(`${declared} bytes`);
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let received = 0;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.byteLength;
      if (received > maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge(`more than ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof SourceError) throw err;
    throw new SourceError(source, `the reply from ${shortUrl(url)} was cut off (${(err as Error).message})`, 'try again later');
  }
  return Buffer.concat(chunks).toString('utf8');
}
