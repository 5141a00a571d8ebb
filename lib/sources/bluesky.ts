// Posts from Bluesky's public AppView: app.bsky.feed.getAuthorFeed, no login
// (formats-and-apis.md §3).
import { toIsoDate } from './dates.js';
import { SourceError } from './errors.js';
import { getJson, shortUrl, type GetJsonOptions } from './http-json.js';
import { FieldReader, isObject } from './json-fields.js';
import { Pagination } from './pagination.js';
import type { Author, Post, SourcePosts } from './post.js';
import { systemClock, type Clock, type ProgressSink } from './rate-limit-wait.js';

export const BLUESKY_DEFAULT_URL = 'https://public.api.bsky.app';
const PAGE_SIZE = 100;
const REPOST = 'app.bsky.feed.defs#reasonRepost';

export interface BlueskyOptions {
  /** Default: TWEETSMITH_BSKY_URL, else https://public.api.bsky.app. */
  baseUrl?: string;
  /** Stop after this many posts (default: the whole feed). */
  maxPosts?: number;
  fetch?: typeof fetch;
  clock?: Clock;
  progress?: ProgressSink;
  /** Default SOURCE_LIMITS.maxRateLimitWaitMs. */
  maxRateLimitWaitMs?: number;
  /** Default SOURCE_LIMITS.maxJsonReplyBytes. */
  maxJsonReplyBytes?: number;
}

export async function readBlueskyFeed(source: string, actor: string, options: BlueskyOptions = {}): Promise<SourcePosts> {
  const baseUrl = (options.baseUrl ?? process.env.TWEETSMITH_BSKY_URL ?? BLUESKY_DEFAULT_URL).replace(/\/+$/, '');
  const progress = options.progress ?? process.stderr;
  const limit = options.maxPosts ?? Number.POSITIVE_INFINITY;
  const http: GetJsonOptions = {
    fetch: options.fetch ?? fetch,
    clock: options.clock ?? systemClock,
    progress,
    maxBytes: options.maxJsonReplyBytes,
    maxRateLimitWaitMs: options.maxRateLimitWaitMs,
    // Bluesky's ratelimit-reset is in epoch seconds.
    rateLimitResetMs: (headers: Headers) => {
      const reset = Number(headers.get('ratelimit-reset'));
      return reset > 0 ? reset * 1000 : undefined;
    },
  };

  let profile: Author = { handle: actor };
  let profileFound = false;
  const posts: Post[] = [];
  const seen = new Set<string>();
  const pagination = new Pagination(source, progress);
  let cursor: string | undefined;
  do {
    const url = new URL(`${baseUrl}/xrpc/app.bsky.feed.getAuthorFeed`);
    url.searchParams.set('actor', actor);
    url.searchParams.set('limit', String(PAGE_SIZE));
    if (cursor) url.searchParams.set('cursor', cursor);
    const { status, body } = await getJson(source, url.href, http);
    if (status !== 200) throw explain(source, actor, status, body);
    const page = FieldReader.of(source, `the reply from ${shortUrl(url.href)}`, body, 'a JSON object');
    let fresh = 0;
    page.list('feed').forEach((value, index) => {
      const item = FieldReader.of(source, `${page.where}: feed[${index}]`, value);
      const post = item.optionalObject('post');
      const uri = post?.string('uri');
      const text = post?.optionalObject('record')?.optionalString('text');
      if (!post || uri === undefined || text === undefined) return;
      const reason = item.optionalObject('reason');
      const isRetweet = reason?.optionalString('$type') === REPOST;
      // One post can be the actor's own and, once reposted by them, a repost too.
      const id = isRetweet ? (reason?.optionalString('uri') ?? `${uri}#repost`) : uri;
      if (seen.has(id)) return;
      seen.add(id);
      fresh++;
      // A repost shows the original author; the actor's own posts show the actor.
      const author = post.optionalObject('author');
      if (!isRetweet && !profileFound && author && (author.optionalString('did') === actor || author.optionalString('handle') === actor)) {
        profile = { handle: author.optionalString('handle') ?? actor };
        const name = author.optionalString('displayName');
        const avatar = author.optionalString('avatar');
        if (name) profile.name = name;
        if (avatar) profile.avatarUrl = avatar;
        profileFound = true;
      }
      if (posts.length >= limit) return;
      const createdAt = post.optionalObject('record')?.optionalString('createdAt') ?? post.optionalString('indexedAt') ?? '';
      posts.push({ id, text, createdAt: toIsoDate(createdAt) ?? '', isRetweet, author: profile });
    });
    cursor = pagination.next(page.optionalString('cursor'), fresh);
    progress.write(`${source}: ${posts.length} posts\n`);
  } while (cursor && posts.length < limit);
  // Posts read before the profile was seen carry the placeholder: give them the real one.
  for (const post of posts) post.author = profile;
  return { source, idSpace: 'bluesky', profile, posts };
}

function explain(source: string, actor: string, status: number, body: unknown): SourceError {
  const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, 300) : undefined);
  const error = isObject(body) ? text(body.error) : undefined;
  const message = isObject(body) ? text(body.message) : undefined;
  if (status === 400 && message === 'Profile not found') {
    return new SourceError(source, `Bluesky has no account ${actor} (Profile not found)`, 'check the handle: it looks like name.bsky.social or a domain');
  }
  if (status === 400) {
    return new SourceError(source, `Bluesky refused the request (${error ?? 'HTTP 400'}${message ? `: ${message}` : ''})`, 'check the handle');
  }
  return new SourceError(source, `Bluesky answered HTTP ${status}${message ? ` (${message})` : ''}`, 'try again later');
}
