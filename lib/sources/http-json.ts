// GET a JSON document from a public API (Bluesky, Mastodon) with plain fetch,
// waiting out HTTP 429 like the X source does. What a non-2xx status means is
// left to the caller, which knows the service.
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
}

const MAX_RATE_LIMIT_WAITS = 10;

export async function getJson(source: string, url: string, options: GetJsonOptions): Promise<JsonResponse> {
  for (let waits = 0; ; waits++) {
    let response: Response;
    try {
      response = await options.fetch(url, { headers: { accept: 'application/json' } });
    } catch (err) {
      const reason = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
      throw new SourceError(source, `cannot reach ${new URL(url).host} (${reason})`, 'check your network connection and the host name');
    }
    const text = await response.text();
    if (response.status === 429 && waits < MAX_RATE_LIMIT_WAITS) {
      const resetMs = options.rateLimitResetMs(response.headers) ?? options.clock.now() + 60_000;
      await waitForRateLimit(source, resetMs, options.clock, options.progress);
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
