// Reading any source string: parse it, then hand it to the reader of its kind.
import { readBlueskyFeed } from './bluesky.js';
import { SourceError } from './errors.js';
import { readCsvFile, readJsonLinesFile, readTextFile } from './local-files.js';
import { readMastodonStatuses } from './mastodon.js';
import type { SourcePosts } from './post.js';
import type { Clock, ProgressSink } from './rate-limit-wait.js';
import { parseSourceString, type SourceSpec } from './source-string.js';
import { readXTimeline } from './x-api.js';
import { readXArchive } from './x-archive.js';

export interface SourceOptions {
  /** X API bearer token (default: X_BEARER_TOKEN). */
  xBearerToken?: string;
  /** X API base URL (default: TWEETSMITH_X_API_URL, else https://api.x.com). */
  xApiUrl?: string;
  /** Bluesky AppView URL (default: TWEETSMITH_BSKY_URL, else https://public.api.bsky.app). */
  bskyUrl?: string;
  /** Mastodon server URL instead of https://HOST (default: TWEETSMITH_MASTODON_URL), for tests. */
  mastodonUrl?: string;
  /** At most this many posts from each network source (X can never give more than 3,200). */
  maxPosts?: number;
  fetch?: typeof fetch;
  clock?: Clock;
  /** Progress and waits (default: process.stderr). */
  progress?: ProgressSink;
  /** The longest rate-limit wait sat out (default SOURCE_LIMITS.maxRateLimitWaitMs: 15 minutes). */
  maxRateLimitWaitMs?: number;
  /** The largest JSON reply read from a service (default SOURCE_LIMITS.maxJsonReplyBytes: 32 MiB). */
  maxJsonReplyBytes?: number;
  /** The largest JSON entry of an X archive, uncompressed (default SOURCE_LIMITS.maxArchiveEntryBytes: 2 GiB). */
  maxArchiveEntryBytes?: number;
}

/** Reads one source; an account or file with no posts at all is an error. */
export async function readSource(source: string | SourceSpec, options: SourceOptions = {}): Promise<SourcePosts> {
  const label = typeof source === 'string' ? source : describe(source);
  const spec = typeof source === 'string' ? parseSourceString(source) : source;
  const common = {
    clock: options.clock,
    progress: options.progress,
    maxPosts: options.maxPosts,
    fetch: options.fetch,
    maxRateLimitWaitMs: options.maxRateLimitWaitMs,
    maxJsonReplyBytes: options.maxJsonReplyBytes,
  };
  let result: SourcePosts;
  switch (spec.kind) {
    case 'x-api':
      result = await readXTimeline(label, spec.handle, { ...common, bearerToken: options.xBearerToken, baseUrl: options.xApiUrl });
      break;
    case 'x-archive':
      result = await readXArchive(label, spec.path, { maxEntryBytes: options.maxArchiveEntryBytes });
      break;
    case 'bluesky':
      result = await readBlueskyFeed(label, spec.actor, { ...common, baseUrl: options.bskyUrl });
      break;
    case 'mastodon':
      result = await readMastodonStatuses(label, spec.username, spec.host, { ...common, baseUrl: options.mastodonUrl });
      break;
    case 'jsonl':
      result = await readJsonLinesFile(label, spec.path);
      break;
    case 'csv':
      result = await readCsvFile(label, spec.path);
      break;
    case 'text':
      result = await readTextFile(label, spec.path);
      break;
  }
  if (result.posts.length === 0) {
    throw new SourceError(label, `has no posts (${describeEmpty(spec)})`, 'a model needs some text to learn from: pick an account or file with posts');
  }
  return result;
}

function describe(spec: SourceSpec): string {
  switch (spec.kind) {
    case 'x-api':
      return `@${spec.handle}`;
    case 'bluesky':
      return `bsky:${spec.actor}`;
    case 'mastodon':
      return `mastodon:@${spec.username}@${spec.host}`;
    default:
      return spec.path;
  }
}

function describeEmpty(spec: SourceSpec): string {
  switch (spec.kind) {
    case 'x-api':
    case 'bluesky':
    case 'mastodon':
      return 'the timeline is empty';
    case 'x-archive':
      return 'the archive holds no tweets';
    default:
      return 'the file holds no posts';
  }
}
