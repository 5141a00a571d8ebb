// Posts from the X API v2, through the twitter-api-v2 client (formats-and-apis.md §2).
//
// The bearer token is secret: it is only ever handed to the client, never put
// in a message, a log line or a file. For the same reason the client's own
// errors (which carry the request, headers included) are never attached to
// ours as a `cause`.
import http from 'node:http';
import { ApiRequestError, ApiResponseError, TwitterApi, TwitterApiv2, type TweetV2 } from 'twitter-api-v2';
import { SourceError } from './errors.js';
import { looksLikeRetweet, type Author, type Post, type SourcePosts } from './post.js';
import { systemClock, waitForRateLimit, type Clock, type ProgressSink } from './rate-limit-wait.js';

export const X_API_DEFAULT_URL = 'https://api.x.com';
/** The API serves a user's 3,200 most recent posts, no more. */
export const X_TIMELINE_CAP = 3200;
const PAGE_SIZE = 100;
/** Rate-limit waits in a row before giving up (a server that never lets us through). */
const MAX_RATE_LIMIT_WAITS = 10;

export interface XApiOptions {
  /** Default: the X_BEARER_TOKEN environment variable. */
  bearerToken?: string;
  /** Default: TWEETSMITH_X_API_URL, else https://api.x.com. An http:// URL is for local test servers. */
  baseUrl?: string;
  /** At most this many posts (default and ceiling: 3,200). */
  maxPosts?: number;
  clock?: Clock;
  progress?: ProgressSink;
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
  const client = createClient(token, baseUrl);
  const progress = options.progress ?? process.stderr;
  const call = <T>(request: () => Promise<T>) =>
    withRateLimitRetry(source, request, options.clock ?? systemClock, progress);

  const lookup = await call(() => client.userByUsername(handle, { 'user.fields': ['profile_image_url', 'name'] }));
  if (!lookup.data) {
    const detail = lookup.errors?.[0]?.detail ?? 'no such user';
    throw new SourceError(source, `X has no account @${handle} (${detail})`, 'check the spelling of the handle');
  }
  const user = lookup.data;
  const profile: Author = { handle: user.username };
  if (user.name) profile.name = user.name;
  // The API gives the 48×48 picture; the original tool showed the 400×400 one.
  if (user.profile_image_url) profile.avatarUrl = user.profile_image_url.replace('_normal.', '_400x400.');

  const limit = Math.min(options.maxPosts ?? X_TIMELINE_CAP, X_TIMELINE_CAP);
  const posts: Post[] = [];
  let paginationToken: string | undefined;
  do {
    const page = await call(() =>
      client.userTimeline(user.id, {
        max_results: PAGE_SIZE,
        'tweet.fields': ['created_at', 'referenced_tweets', 'note_tweet'],
        ...(paginationToken ? { pagination_token: paginationToken } : {}),
      }),
    );
    for (const tweet of page.tweets) {
      if (posts.length < limit) posts.push(toPost(tweet, profile));
    }
    paginationToken = page.meta.next_token;
    progress.write(`${source}: ${posts.length} posts\n`);
  } while (paginationToken && posts.length < limit);
  return { source, idSpace: 'x', profile, posts };
}

function createClient(token: string, baseUrl: string): TwitterApiv2 {
  // The client always calls https.request; given an http.Agent it speaks plain
  // HTTP instead, which is what a local test server on 127.0.0.1 needs.
  const settings = baseUrl.startsWith('http:') ? { httpAgent: new http.Agent() } : {};
  return new TwitterApiV2At(new TwitterApi(token, settings), `${baseUrl}/2/`);
}

/** The v2 client, at another base URL than api.x.com (the prefix is only settable from inside). */
class TwitterApiV2At extends TwitterApiv2 {
  constructor(root: TwitterApi, prefix: string) {
    super(root);
    this.setPrefix(prefix);
  }
}

function toPost(tweet: TweetV2, author: Author): Post {
  // Long posts come truncated in `text`, whole in `note_tweet.text`.
  const text = tweet.note_tweet?.text ?? tweet.text;
  const isRetweet =
    (tweet.referenced_tweets ?? []).some((reference) => reference.type === 'retweeted') || looksLikeRetweet(text);
  return { id: tweet.id, text, createdAt: tweet.created_at ?? '', isRetweet, author };
}

/** Runs one API call; on HTTP 429 waits for the window to reset (with a countdown) and tries again. */
async function withRateLimitRetry<T>(source: string, request: () => Promise<T>, clock: Clock, progress: ProgressSink): Promise<T> {
  for (let waits = 0; ; waits++) {
    try {
      return await request();
    } catch (err) {
      if (err instanceof ApiResponseError && err.code === 429 && waits < MAX_RATE_LIMIT_WAITS) {
        await waitForRateLimit(source, rateLimitResetMs(err, clock), clock, progress);
        continue;
      }
      throw explain(source, err);
    }
  }
}

/**
 * When X lets us in again: `x-rate-limit-reset` (epoch seconds) ends the
 * 15-minute window, unless the app's 24-hour cap is what ran out; with
 * neither header, a minute from now.
 */
function rateLimitResetMs(err: ApiResponseError, clock: Clock): number {
  const header = (name: string) => {
    const value = Number(err.headers?.[name]);
    return Number.isFinite(value) && value > 0 ? value : undefined;
  };
  const dayExhausted = String(err.headers?.['x-app-limit-24hour-remaining']) === '0';
  const resetSeconds = (dayExhausted ? header('x-app-limit-24hour-reset') : undefined) ?? header('x-rate-limit-reset');
  return resetSeconds !== undefined ? resetSeconds * 1000 : clock.now() + 60_000;
}

function explain(source: string, err: unknown): Error {
  if (err instanceof ApiResponseError) {
    const detail = apiErrorDetail(err.data);
    switch (err.code) {
      case 401:
        return new SourceError(source, 'X rejected the bearer token (HTTP 401)', 'check X_BEARER_TOKEN: copy the bearer token of your app from the X developer portal again');
      case 403:
        return new SourceError(source, `X refused access (HTTP 403${detail ? `: ${detail}` : ''})`, "your API plan may not include reading timelines; use your own X archive (.zip) instead");
      case 404:
        return new SourceError(source, `X has no such account (HTTP 404${detail ? `: ${detail}` : ''})`, 'check the spelling of the handle');
      case 429:
        return new SourceError(source, 'X kept answering "too many requests" (HTTP 429)', 'try again later');
      default:
        return new SourceError(source, `X answered HTTP ${err.code}${detail ? ` (${detail})` : ''}`, 'try again later');
    }
  }
  if (err instanceof ApiRequestError) {
    return new SourceError(source, `cannot reach the X API (${err.requestError.message})`, 'check your network connection');
  }
  return err instanceof Error ? err : new Error(String(err));
}

function apiErrorDetail(data: unknown): string | undefined {
  if (!data || typeof data !== 'object') return undefined;
  const body = data as { detail?: unknown; title?: unknown; errors?: Array<{ detail?: unknown; message?: unknown }> };
  const first = body.errors?.[0];
  const text = first?.detail ?? first?.message ?? body.detail ?? body.title;
  return typeof text === 'string' ? text : undefined;
}
