// Posts from the X API v2: the user lookup, then the user's timeline page by
// page (formats-and-apis.md §2). Two GETs with a bearer token are all it
// takes, so they go through the same bounded JSON reader as Bluesky and
// Mastodon (size cap, rate-limit cap) rather than a client library.
//
// The bearer token is secret: it is only ever put in the request's
// authorization header, never in a message, a log line or a file, and no
// error carries the request (or fetch's own error) as a `cause`.
import { SOURCE_LIMITS } from '../defaults.js';
import { toIsoDate } from './dates.js';
import { SourceError } from './errors.js';
import { getJson, shortUrl, type GetJsonOptions, type JsonResponse } from './http-json.js';
import { FieldReader, isObject } from './json-fields.js';
import { Pagination } from './pagination.js';
import { looksLikeRetweet, type Author, type Post, type SourcePosts } from './post.js';
import { systemClock, type Clock, type ProgressSink } from './rate-limit-wait.js';

export const X_API_DEFAULT_URL = 'https://api.x.com';
/** The API serves a user's 3,200 most recent posts, no more. */
export const X_TIMELINE_CAP = 3200;
const PAGE_SIZE = 100;
/** X's ids are decimal numbers (as strings); the user's id becomes part of a URL path. */
const X_ID = /^\d{1,30}$/;

export interface XApiOptions {
  /** Default: the X_BEARER_TOKEN environment variable. */
  bearerToken?: string;
  /** Default: TWEETSMITH_X_API_URL, else https://api.x.com. An http:// URL is for local test servers. */
  baseUrl?: string;
  /** At most this many posts (default and ceiling: 3,200). */
  maxPosts?: number;
  fetch?: typeof fetch;
  clock?: Clock;
  progress?: ProgressSink;
  /** Default SOURCE_LIMITS.maxRateLimitWaitMs (15 minutes, X's window). */
  maxRateLimitWaitMs?: number;
  /** Default SOURCE_LIMITS.maxJsonReplyBytes (32 MiB). */
  maxJsonReplyBytes?: number;
}

export async function readXTimeline(source: string, handle: string, options: XApiOptions = {}): Promise<SourcePosts> {
  const token = options.bearerToken ?? process.env.X_BEARER_TOKEN;
  if (!token) {
    throw new SourceError(
      source,
      'reading X needs an API bearer token',
      'set X_BEARER_TOKEN (from your app on the X developer portal), or use your own X archive (.zip) instead',
    );
  }
  const baseUrl = (options.baseUrl ?? process.env.TWEETSMITH_X_API_URL ?? X_API_DEFAULT_URL).replace(/\/+$/, '');
  const progress = options.progress ?? process.stderr;
  const clock = options.clock ?? systemClock;
  const http: GetJsonOptions = {
    fetch: options.fetch ?? fetch,
    clock,
    progress,
    headers: { authorization: `Bearer ${token}` },
    maxBytes: options.maxJsonReplyBytes,
    maxRateLimitWaitMs: options.maxRateLimitWaitMs ?? SOURCE_LIMITS.maxRateLimitWaitMs,
    rateLimitResetMs,
  };
  const call = async (url: URL): Promise<FieldReader> => {
    const reply = await getJson(source, url.href, http);
    if (reply.status !== 200) throw explain(source, reply);
    return FieldReader.of(source, `the reply from ${shortUrl(url.href)}`, reply.body, 'a JSON object');
  };

  const lookupUrl = new URL(`${baseUrl}/2/users/by/username/${encodeURIComponent(handle)}`);
  lookupUrl.searchParams.set('user.fields', 'profile_image_url,name');
  const lookup = await call(lookupUrl);
  const user = lookup.optionalObject('data');
  if (!user) {
    const detail = apiErrorDetail(lookup.object) ?? 'no such user';
    throw new SourceError(source, `X has no account @${handle} (${detail})`, 'check the spelling of the handle');
  }
  const userId = user.string('id');
  if (!X_ID.test(userId)) throw new SourceError(source, `${user.where}: "id" ${JSON.stringify(userId.slice(0, 40))} is not an X user id (digits)`);
  const profile: Author = { handle: user.optionalString('username') ?? handle };
  const name = user.optionalString('name');
  if (name) profile.name = name;
  // The API gives the 48×48 picture; the original tool showed the 400×400 one.
  const avatar = user.optionalString('profile_image_url');
  if (avatar) profile.avatarUrl = avatar.replace('_normal.', '_400x400.');

  const limit = Math.min(options.maxPosts ?? X_TIMELINE_CAP, X_TIMELINE_CAP);
  const posts: Post[] = [];
  const seen = new Set<string>();
  const pagination = new Pagination(source, progress);
  let paginationToken: string | undefined;
  do {
    const url = new URL(`${baseUrl}/2/users/${userId}/tweets`);
    url.searchParams.set('max_results', String(PAGE_SIZE));
    url.searchParams.set('tweet.fields', 'created_at,referenced_tweets,note_tweet');
    if (paginationToken) url.searchParams.set('pagination_token', paginationToken);
    const page = await call(url);
    let fresh = 0;
    page.list('data').forEach((item, index) => {
      const post = toPost(FieldReader.of(source, `${page.where}: data[${index}]`, item), profile);
      if (seen.has(post.id)) return;
      seen.add(post.id);
      fresh++;
      if (posts.length < limit) posts.push(post);
    });
    paginationToken = pagination.next(page.optionalObject('meta')?.optionalString('next_token'), fresh);
    progress.write(`${source}: ${posts.length} posts\n`);
  } while (paginationToken && posts.length < limit);
  return { source, idSpace: 'x', profile, posts };
}

function toPost(tweet: FieldReader, author: Author): Post {
  // Long posts come truncated in `text`, whole in `note_tweet.text`.
  const text = tweet.optionalObject('note_tweet')?.optionalString('text') ?? tweet.string('text');
  const references = tweet.list('referenced_tweets').map((ref, i) => FieldReader.of(tweet.source, `${tweet.where}.referenced_tweets[${i}]`, ref));
  const isRetweet = references.some((reference) => reference.optionalString('type') === 'retweeted') || looksLikeRetweet(text);
  const createdAt = tweet.optionalString('created_at');
  return { id: tweet.string('id'), text, createdAt: createdAt === undefined ? '' : (toIsoDate(createdAt) ?? ''), isRetweet, author };
}

/**
 * When X lets us in again: `x-rate-limit-reset` (epoch seconds) ends the
 * 15-minute window, unless the app's 24-hour cap is what ran out (which the
 * wait cap then turns into an error that says when to come back).
 */
function rateLimitResetMs(headers: Headers): number | undefined {
  const header = (name: string) => {
    const value = Number(headers.get(name) ?? undefined);
    return Number.isFinite(value) && value > 0 ? value : undefined;
  };
  const dayExhausted = headers.get('x-app-limit-24hour-remaining') === '0';
  const resetSeconds = (dayExhausted ? header('x-app-limit-24hour-reset') : undefined) ?? header('x-rate-limit-reset');
  return resetSeconds !== undefined ? resetSeconds * 1000 : undefined;
}

function explain(source: string, reply: JsonResponse): SourceError {
  const detail = apiErrorDetail(reply.body);
  switch (reply.status) {
    case 401:
      return new SourceError(source, 'X rejected the bearer token (HTTP 401)', 'check X_BEARER_TOKEN: copy the bearer token of your app from the X developer portal again');
    case 403:
      return new SourceError(source, `X refused access (HTTP 403${detail ? `: ${detail}` : ''})`, 'your API plan may not include reading timelines; use your own X archive (.zip) instead');
    case 404:
      return new SourceError(source, `X has no such account (HTTP 404${detail ? `: ${detail}` : ''})`, 'check the spelling of the handle');
    case 429:
      return new SourceError(source, 'X kept answering "too many requests" (HTTP 429)', 'try again later');
    default:
      return new SourceError(source, `X answered HTTP ${reply.status}${detail ? ` (${detail})` : ''}`, 'try again later');
  }
}

/** The first human-readable detail in an X error body: errors[0].detail or .message, else detail or title. */
function apiErrorDetail(data: unknown): string | undefined {
  if (!isObject(data)) return undefined;
  const first = Array.isArray(data.errors) && isObject(data.errors[0]) ? data.errors[0] : {};
  for (const text of [first.detail, first.message, data.detail, data.title]) {
    if (typeof text === 'string') return text.slice(0, 300);
  }
  return undefined;
}
