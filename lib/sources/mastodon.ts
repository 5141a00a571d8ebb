// Posts from a Mastodon account's public statuses (formats-and-apis.md §3).
import { toIsoDate } from './dates.js';
import { SourceError } from './errors.js';
import { htmlToText } from './html-to-text.js';
import { getJson } from './http-json.js';
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
}

interface Account {
  id?: string;
  username?: string;
  display_name?: string;
  avatar?: string;
}

interface Status {
  id?: string;
  created_at?: string;
  content?: string;
  reblog?: Status | null;
}

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
  const http = {
    fetch: options.fetch ?? fetch,
    clock: options.clock ?? systemClock,
    progress,
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
  const account = lookup.body as Account;
  if (!account?.id) throw new SourceError(source, `${host} answered the account lookup without an account id`);
  const profile: Author = { handle: `${(account.username ?? username).toLowerCase()}@${host}` };
  if (account.display_name) profile.name = account.display_name;
  if (account.avatar) profile.avatarUrl = account.avatar;

  const posts: Post[] = [];
  let next: string | undefined = statusesUrl(baseUrl, account.id);
  while (next && posts.length < limit) {
    const page = await getJson(source, next, http);
    if (page.status !== 200) throw explain(source, `${username}@${host}`, page.status, page.body);
    const statuses = Array.isArray(page.body) ? (page.body as Status[]) : [];
    for (const status of statuses) {
      if (posts.length >= limit || !status.id) continue;
      // A boost (reblog) has empty content of its own; the boosted text is inside.
      const shown = status.reblog ?? status;
      posts.push({
        id: status.id,
        text: htmlToText(shown.content ?? ''),
        createdAt: toIsoDate(status.created_at ?? '') ?? '',
        isRetweet: status.reblog != null,
        author: profile,
      });
    }
    progress.write(`${source}: ${posts.length} posts\n`);
    next = nextPageUrl(page.headers.get('link'), origin, statuses, baseUrl, account.id);
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
function nextPageUrl(link: string | null, origin: string, page: Status[], baseUrl: string, accountId: string): string | undefined {
  if (page.length === 0) return undefined;
  if (link !== null) {
    for (const part of link.split(',')) {
      const match = /<([^>]+)>\s*;(.*)/.exec(part.trim());
      if (match && /rel="?next"?/.test(match[2]!)) {
        const url = new URL(match[1]!, baseUrl);
        return url.origin === origin ? url.href : statusesUrl(baseUrl, accountId, page.at(-1)?.id);
      }
    }
    return undefined;
  }
  return statusesUrl(baseUrl, accountId, page.at(-1)?.id);
}

function explain(source: string, acct: string, status: number, body: unknown): SourceError {
  const message = (body as { error?: string } | undefined)?.error;
  if (status === 404) return new SourceError(source, `Mastodon has no account @${acct} (HTTP 404)`, 'check the name and the server: mastodon:@name@server');
  if (status === 401 || status === 403) {
    return new SourceError(source, `the server does not show @${acct}'s posts without logging in (HTTP ${status})`, 'export the posts to a .jsonl or .csv file instead');
  }
  return new SourceError(source, `the Mastodon server answered HTTP ${status}${message ? ` (${message})` : ''}`, 'try again later');
}
