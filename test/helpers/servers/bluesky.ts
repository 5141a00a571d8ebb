// A stand-in for Bluesky's public app.bsky.feed.getAuthorFeed: FeedViewPost
// pages joined by `cursor`, reposts marked by reason.$type, and the real
// 400 InvalidRequest "Profile not found" for an unknown actor.
import { startLocalServer, type LocalServer } from './local-server.js';

export interface FakeBlueskyAccount {
  did: string;
  handle: string;
  displayName: string;
  avatar: string;
}

export interface FakeSkeet {
  rkey: string;
  text: string;
  createdAt: string;
  /** Reposted by the account: the post belongs to `by`. */
  repostOf?: { did: string; handle: string };
}

export function startFakeBluesky(account: FakeBlueskyAccount, pages: FakeSkeet[][]): Promise<LocalServer> {
  return startLocalServer((url) => {
    if (url.pathname !== '/xrpc/app.bsky.feed.getAuthorFeed') {
      return { status: 404, body: { error: 'MethodNotImplemented', message: 'Method Not Implemented' } };
    }
    const actor = url.searchParams.get('actor');
    if (actor !== account.handle && actor !== account.did) {
      return { status: 400, body: { error: 'InvalidRequest', message: 'Profile not found' } };
    }
    const page = Number(url.searchParams.get('cursor') ?? 0);
    const feed = (pages[page] ?? []).map((skeet) => {
      const author = skeet.repostOf
        ? { did: skeet.repostOf.did, handle: skeet.repostOf.handle, displayName: 'Someone Else', avatar: 'https://cdn.example/other.jpg' }
        : { did: account.did, handle: account.handle, displayName: account.displayName, avatar: account.avatar };
      const uri = `at://${author.did}/app.bsky.feed.post/${skeet.rkey}`;
      return {
        post: {
          uri,
          cid: `bafyrei${skeet.rkey}`,
          author,
          record: { $type: 'app.bsky.feed.post', text: skeet.text, createdAt: skeet.createdAt, langs: ['en'] },
          replyCount: 0,
          repostCount: 0,
          likeCount: 0,
          indexedAt: skeet.createdAt,
          labels: [],
        },
        ...(skeet.repostOf
          ? {
              reason: {
                $type: 'app.bsky.feed.defs#reasonRepost',
                by: { did: account.did, handle: account.handle },
                uri: `at://${account.did}/app.bsky.feed.repost/${skeet.rkey}`,
                indexedAt: skeet.createdAt,
              },
            }
          : {}),
      };
    });
    return { body: page + 1 < pages.length ? { cursor: String(page + 1), feed } : { feed } };
  });
}
