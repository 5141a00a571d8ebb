// A stand-in for a Mastodon server's public API: accounts/lookup (404 for an
// unknown name) and accounts/:id/statuses in pages of Status objects with
// HTML content, paged by a Link header rel="next" with max_id — or, when
// `linkHeaders` is off, by nothing but max_id (as some servers do).
import { startLocalServer, type LocalServer } from './local-server.js';

export interface FakeToot {
  id: string;
  content: string;
  created_at: string;
  /** A boost of someone else's status with this HTML. */
  reblogOf?: string;
}

export interface FakeMastodonOptions {
  username: string;
  displayName: string;
  /** Newest first, as the API returns them. */
  statuses: FakeToot[];
  pageSize?: number;
  linkHeaders?: boolean;
  /** Answer the first statuses request with 429 and this X-RateLimit-Reset (ISO time). */
  rateLimitResetIso?: string;
}

export function startFakeMastodon(options: FakeMastodonOptions): Promise<LocalServer> {
  const accountId = '109302';
  let rateLimited = false;
  return startLocalServer((url, request) => {
    if (url.pathname === '/api/v1/accounts/lookup') {
      if (url.searchParams.get('acct')?.toLowerCase() !== options.username.toLowerCase()) {
        return { status: 404, body: { error: 'Record not found' } };
      }
      return {
        body: {
          id: accountId,
          username: options.username,
          acct: options.username,
          display_name: options.displayName,
          avatar: 'https://files.example/avatars/original/me.png',
          statuses_count: options.statuses.length,
        },
      };
    }
    if (url.pathname === `/api/v1/accounts/${accountId}/statuses`) {
      if (options.rateLimitResetIso && !rateLimited) {
        rateLimited = true;
        return {
          status: 429,
          headers: { 'x-ratelimit-limit': '300', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': options.rateLimitResetIso },
          body: { error: 'Too many requests' },
        };
      }
      const limit = Math.min(Number(url.searchParams.get('limit') ?? 20), options.pageSize ?? 40);
      const maxId = url.searchParams.get('max_id');
      const older = maxId ? options.statuses.filter((s) => BigInt(s.id) < BigInt(maxId)) : options.statuses;
      const page = older.slice(0, limit);
      const body = page.map((toot) => ({
        id: toot.id,
        created_at: toot.created_at,
        visibility: 'public',
        language: 'en',
        spoiler_text: '',
        content: toot.reblogOf ? '' : toot.content,
        reblog: toot.reblogOf
          ? { id: `9${toot.id}`, created_at: toot.created_at, content: toot.reblogOf, account: { username: 'other' } }
          : null,
        account: { id: accountId, username: options.username },
      }));
      const headers: Record<string, string> = {};
      if (options.linkHeaders !== false && page.length > 0) {
        const host = request.headers.host;
        const next = `http://${host}/api/v1/accounts/${accountId}/statuses?limit=${limit}&max_id=${page.at(-1)!.id}`;
        const prev = `http://${host}/api/v1/accounts/${accountId}/statuses?limit=${limit}&min_id=${page[0]!.id}`;
        headers.link = `<${next}>; rel="next", <${prev}>; rel="prev"`;
      }
      return { headers, body };
    }
    return { status: 404, body: { error: 'Not Found' } };
  });
}
