// Posts from Bluesky's public AppView: app.bsky.feed.getAuthorFeed, no login
// (formats-and-apis.md §3).
import { toIsoDate } from './dates.js';
import { SourceError } from './errors.js';
import { getJson } from './http-json.js';
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
}

interface FeedViewPost {
  post?: {
    uri?: string;
    author?: { did?: string; handle?: string; displayName?: string; avatar?: string };
    record?: { text?: string; createdAt?: string };
    indexedAt?: string;
  };
  reason?: { $type?: string; uri?: string };
}

interface AuthorFeed {
  cursor?: string;
  feed?: FeedViewPost[];
}

export async function readBlueskyFeed(source: string, actor: string, options: BlueskyOptions = {}): Promise<SourcePosts> {
  const baseUrl = (options.baseUrl ?? process.env.TWEETSMITH_BSKY_URL ?? BLUESKY_DEFAULT_URL).replace(/\/+$/, '');
  const progress = options.progress ?? process.stderr;
  const limit = options.maxPosts ?? Number.POSITIVE_INFINITY;
  const http = {
    fetch: options.fetch ?? fetch,
    clock: options.clock ?? systemClock,
    progress,
    // Bluesky's ratelimit-reset is in epoch seconds.
    rateLimitResetMs: (headers: Headers) => {
      const reset = Number(headers.get('ratelimit-reset'));
      return reset > 0 ? reset * 1000 : undefined;
    },
  };

  let profile: Author = { handle: actor };
  let profileFound = false;
  const posts: Post[] = [];
  let cursor: string | undefined;
  do {
    const url = new URL(`${baseUrl}/xrpc/app.bsky.feed.getAuthorFeed`);
    url.searchParams.set('actor', actor);
    url.searchParams.set('limit', String(PAGE_SIZE));
    if (cursor) url.searchParams.set('cursor', cursor);
    const { status, body } = await getJson(source, url.href, http);
    if (status !== 200) throw explain(source, actor, status, body);
    const page = body as AuthorFeed;
    for (const item of page.feed ?? []) {
      const post = item.post;
      if (!post?.uri || typeof post.record?.text !== 'string') continue;
      const isRetweet = item.reason?.$type === REPOST;
      // A repost shows the original author; the actor's own posts show the actor.
      if (!isRetweet && !profileFound && post.author && (post.author.did === actor || post.author.handle === actor)) {
        profile = { handle: post.author.handle ?? actor };
        if (post.author.displayName) profile.name = post.author.displayName;
        if (post.author.avatar) profile.avatarUrl = post.author.avatar;
        profileFound = true;
      }
      if (posts.length >= limit) break;
      posts.push({
        // One post can be the actor's own and, once reposted by them, a repost too.
        id: isRetweet ? (item.reason?.uri ?? `${post.uri}#repost`) : post.uri,
        text: post.record.text,
        createdAt: toIsoDate(post.record.createdAt ?? post.indexedAt ?? '') ?? '',
        isRetweet,
        author: profile,
      });
    }
    cursor = page.cursor;
    progress.write(`${source}: ${posts.length} posts\n`);
  } while (cursor && posts.length < limit);
  // Posts read before the profile was seen carry the placeholder: give them the real one.
  for (const post of posts) post.author = profile;
  return { source, idSpace: 'bluesky', profile, posts };
}

function explain(source: string, actor: string, status: number, body: unknown): SourceError {
  const { error, message } = (body ?? {}) as { error?: string; message?: string };
  if (status === 400 && message === 'Profile not found') {
    return new SourceError(source, `Bluesky has no account ${actor} (Profile not found)`, 'check the handle: it looks like name.bsky.social or a domain');
  }
  if (status === 400) {
    return new SourceError(source, `Bluesky refused the request (${error ?? 'HTTP 400'}${message ? `: ${message}` : ''})`, 'check the handle');
  }
  return new SourceError(source, `Bluesky answered HTTP ${status}${message ? ` (${message})` : ''}`, 'try again later');
}
