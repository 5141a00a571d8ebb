// A stand-in for the X API v2 endpoints tweetsmith calls, answering with the
// shapes the real service uses (user lookup, user timeline pages with
// next_token, 401 for a bad token, errors[] for an unknown user, 429 with
// x-rate-limit-* headers).
import { startLocalServer, type LocalServer } from './local-server.js';

export interface FakeXUser {
  id: string;
  username: string;
  name: string;
  profile_image_url?: string;
}

export interface FakeTweet {
  id: string;
  text: string;
  created_at: string;
  referenced_tweets?: Array<{ type: 'retweeted' | 'quoted' | 'replied_to'; id: string }>;
  note_tweet?: { text: string };
}

export interface FakeXApiOptions {
  /** The only bearer token accepted. */
  token: string;
  user: FakeXUser;
  /** The timeline, page by page (newest first). */
  pages: FakeTweet[][];
  /** Answer 429 once, the first time this page (0-based) is asked for. */
  rateLimitOnPage?: number;
  /** x-rate-limit-reset of that 429, epoch seconds. */
  rateLimitResetS?: number;
  /** How an unknown username is answered: errors[] in a 200 (what X does for lookups) or a bare 404. */
  unknownUser?: 'errors' | 404;
}

export function startFakeXApi(options: FakeXApiOptions): Promise<LocalServer> {
  let rateLimited = false;
  return startLocalServer((url, request) => {
    if (request.headers.authorization !== `Bearer ${options.token}`) {
      return { status: 401, body: { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' } };
    }
    const lookup = /^\/2\/users\/by\/username\/([^/]+)$/.exec(url.pathname);
    if (lookup) {
      const username = decodeURIComponent(lookup[1]!);
      if (username.toLowerCase() !== options.user.username.toLowerCase()) {
        if (options.unknownUser === 404) {
          return { status: 404, body: { title: 'Not Found Error', type: 'about:blank', status: 404, detail: `Could not find user with username: [${username}].` } };
        }
        return {
          body: {
            errors: [
              {
                value: username,
                detail: `Could not find user with username: [${username}].`,
                title: 'Not Found Error',
                resource_type: 'user',
                parameter: 'username',
                resource_id: username,
                type: 'https://api.twitter.com/2/problems/resource-not-found',
              },
            ],
          },
        };
      }
      const fields = (url.searchParams.get('user.fields') ?? '').split(',');
      const { profile_image_url, ...basic } = options.user;
      return { body: { data: fields.includes('profile_image_url') && profile_image_url ? { ...basic, profile_image_url } : basic } };
    }
    const timeline = /^\/2\/users\/([^/]+)\/tweets$/.exec(url.pathname);
    if (timeline && timeline[1] === options.user.id) {
      const token = url.searchParams.get('pagination_token');
      const page = token ? Number(token.replace('page-', '')) : 0;
      if (page === options.rateLimitOnPage && !rateLimited) {
        rateLimited = true;
        return {
          status: 429,
          headers: {
            'x-rate-limit-limit': '1500',
            'x-rate-limit-remaining': '0',
            'x-rate-limit-reset': String(options.rateLimitResetS ?? 0),
          },
          body: { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 },
        };
      }
      const tweets = options.pages[page] ?? [];
      if (tweets.length === 0) return { body: { meta: { result_count: 0 } } };
      const meta: Record<string, unknown> = {
        result_count: tweets.length,
        newest_id: tweets[0]!.id,
        oldest_id: tweets.at(-1)!.id,
      };
      if (page + 1 < options.pages.length) meta.next_token = `page-${page + 1}`;
      const data = tweets.map((tweet) => ({ edit_history_tweet_ids: [tweet.id], ...tweet }));
      return { body: { data, meta } };
    }
    return { status: 404, body: { title: 'Not Found', type: 'about:blank', status: 404, detail: 'Not Found' } };
  });
}
