// Posts from a Mastodon account's public statuses (formats-and-apis.md §3).
import { toIsoDate } from './dates.js';
import { SourceError } from './errors.js';
import { htmlToText } from './html-to-text.js';
import { getJson, shortUrl, type GetJsonOptions } from './http-json.js';
import { describeJson, FieldReader, isObject } from './json-fields.js';
import { Pagination } from './pagination.js';
import type { Author, Post, SourcePosts } from './post.js';
import { systemClock, type Clock, type ProgressSink } from './rate-limit-wait.js';

const PAGE_SIZE = 40;

export interface MastodonOptions {
  /**
   * Where the account's server is, instead of https://HOST: default
   * TWEETSMITH_MASTODON_URL; meant for a local test server (http://127.0.0.1:PORT).
   */
  baseUrl?: string;
  /** Stop after this many posts (default: every public status). */
  maxPosts?: number;
  fetch?: typeof fetch;
  clock?: Clock;
  progress?: ProgressSink;
  /** Default SOURCE_LIMITS.maxRateLimitWaitMs. */
  maxRateLimitWaitMs?: number;
  /** Default SOURCE_LIMITS.maxJsonReplyBytes. */
  maxJsonReplyBytes?: number;
}

/** Mastodon's ids are digits; Pleroma's and Akkoma's are letters and digits. The id goes into a URL path. */
const ACCOUNT_ID = /^[A-Za-z0-9_-]{1,64}$/;

export async function readMastodonStatuses(
  source: string,
  username: string,
  host: string,
  options: MastodonOptions = {},
): Promise<SourcePosts> {
  const baseUrl = (options.baseUrl ?? process.env.TWEETSMITH_MASTODON_URL ?? `https://${host}`).replace(/\/+$/, '');
  const origin = new URL(baseUrl).origin;
  const progress = options.progress ?? process.stderr;
  const limit = options.maxPosts ?? Number.POSITIVE_INFINITY;
  const http: GetJsonOptions = {
    fetch: options.fetch ?? fetch,
    clock: options.clock ?? systemClock,
    progress,
    maxBytes: options.maxJsonReplyBytes,
    maxRateLimitWaitMs: options.maxRateLimitWaitMs,
    // Mastodon's X-RateLimit-Reset is an ISO timestamp.
    rateLimitResetMs: (headers: Headers) => {
      const reset = Date.parse(headers.get('x-ratelimit-reset') ?? '');
      return Number.isNaN(reset) ? undefined : reset;
    },
  };

  const lookupUrl = new URL(`${baseUrl}/api/v1/accounts/lookup`);
  lookupUrl.searchParams.set('acct', username);
  const lookup = await getJson(source, lookupUrl.href, http);
  if (lookup.status !== 200) throw explain(source, `${username}@${host}`, lookup.status, lookup.body);
  const account = FieldReader.of(source, `the reply from ${shortUrl(lookupUrl.href)}`, lookup.body, 'an account');
  const accountId = account.optionalString('id');
  if (!accountId) throw new SourceError(source, `${host} answered the account lookup without an account id`);
  if (!ACCOUNT_ID.test(accountId)) {
    throw new SourceError(source, `${account.where}: "id" ${JSON.stringify(accountId.slice(0, 40))} is not an account id (letters and digits)`);
  }
  const profile: Author = { handle: `${(account.optionalString('username') ?? username).toLowerCase()}@${host}` };
  const name = account.optionalString('display_name');
  const avatar = account.optionalString('avatar');
  if (name) profile.name = name;
  if (avatar) profile.avatarUrl = avatar;

  const posts: Post[] = [];
  const seen = new Set<string>();
  const pagination = new Pagination(source, progress);
  let next: string | undefined = statusesUrl(baseUrl, accountId);
  while (next && posts.length < limit) {
    const page = await getJson(source, next, http);
    if (page.status !== 200) throw explain(source, `${username}@${host}`, page.status, page.body);
    const where = `the reply from ${shortUrl(next)}`;
    if (!Array.isArray(page.body)) throw new SourceError(source, `${where} is ${describeJson(page.body)}, not a list of statuses`, 'check the server address');
    const statuses = page.body.map((value, index) => FieldReader.of(source, `${where}: status ${index + 1}`, value));
    let fresh = 0;
    for (const status of statuses) {
      const id = status.optionalString('id');
      if (!id || seen.has(id)) continue;
      seen.add(id);
      fresh++;
      if (posts.length >= limit) continue;
      // A boost (reblog) has empty content of its own; the boosted text is inside.
      const reblog = status.optionalObject('reblog');
      const shown = reblog ?? status;
      posts.push({
        id,
        text: htmlToText(shown.optionalString('content') ?? ''),
        createdAt: toIsoDate(status.optionalString('created_at') ?? '') ?? '',
        isRetweet: reblog !== undefined,
        author: profile,
      });
    }
    progress.write(`${source}: ${posts.length} posts\n`);
    const lastId = statuses.at(-1)?.optionalString('id');
    next = pagination.next(nextPageUrl(page.headers.get('link'), origin, statuses.length, lastId, baseUrl, accountId), fresh);
  }
  return { source, idSpace: `mastodon:${host}`, profile, posts };
}

function statusesUrl(baseUrl: string, accountId: string, maxId?: string): string {
  const url = new URL(`${baseUrl}/api/v1/accounts/${encodeURIComponent(accountId)}/statuses`);
  url.searchParams.set('limit', String(PAGE_SIZE));
  if (maxId) url.searchParams.set('max_id', maxId);
  return url.href;
}

/**
 * The next page: the Link header's rel="next" when the server sends one (only
 * on the same server: a link elsewhere is not followed), else older than the
 * last status (max_id). An empty page, or a Link header without "next", ends it.
 */
function nextPageUrl(
  link: string | null,
  origin: string,
  pageLength: number,
  lastId: string | undefined,
  baseUrl: string,
  accountId: string,
): string | undefined {
  if (pageLength === 0) return undefined;
  if (link !== null) {
    for (const part of link.split(',')) {
      const match = /<([^>]+)>\s*;(.*)/.exec(part.trim());
      if (match && /rel="?next"?/.test(match[2]!)) {
        // The header is the server's: a link that is no URL is treated as one elsewhere.
        const url = URL.canParse(match[1]!, baseUrl) ? new URL(match[1]!, baseUrl) : undefined;
        return url?.origin === origin ? url.href : statusesUrl(baseUrl, accountId, lastId);
      }
    }
    return undefined;
  }
  return statusesUrl(baseUrl, accountId, lastId);
}

function explain(source: string, acct: string, status: number, body: unknown): SourceError {
  const message = isObject(body) && typeof body.error === 'string' ? body.error.slice(0, 300) : undefined;
  if (status === 404) return new SourceError(source, `Mastodon has no account @${acct} (HTTP 404)`, 'check the name and the server: mastodon:@name@server');
  if (status === 401 || status === 403) {
    return new SourceError(source, `the server does not show @${acct}'s posts without logging in (HTTP ${status})`, 'export the posts to a .jsonl or .csv file instead');
  }
  return new SourceError(source, `the Mastodon server answered HTTP ${status}${message ? ` (${message})` : ''}`, 'try again later');
}
