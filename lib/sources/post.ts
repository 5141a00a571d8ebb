// The record every source yields, whatever network or file it reads.

/** Who wrote (or reposted) a post, as far as the source knows. */
export interface Author {
  /** The account name without a leading `@` (X: `jack`; Bluesky: `alice.bsky.social`; Mastodon: `alice@mastodon.social`). */
  handle: string;
  /** Display name, when the source has one. */
  name?: string;
  /** Profile picture URL, when the source has one (used by the model card). */
  avatarUrl?: string;
}

export interface Post {
  /** Unique within its source (a tweet id, an at:// URI, a status id, a line number for plain files). */
  id: string;
  /** The text as the network gives it (X keeps `&amp;`, `&lt;`, `&gt;` escaped; cleaning undoes them). */
  text: string;
  /** ISO 8601 (`2023-08-12T16:10:37.000Z`); the empty string when a local file does not say. */
  createdAt: string;
  /** A retweet, repost or boost: counted, then left out of the training text. */
  isRetweet: boolean;
  /** The account whose timeline this post came from (the reposter, for a repost). */
  author: Author;
}

/** What reading one source gives: the account's profile and its posts, newest first where known. */
export interface SourcePosts {
  /** The source string it was read from, for messages. */
  source: string;
  /**
   * Which id space the posts' ids live in: an X archive and the X API share `x`,
   * so the same tweet read from both can be recognised as one.
   */
  idSpace: string;
  profile: Author;
  posts: Post[];
}

/** True for text that X shows as a retweet: the only retweet signal an X archive has. */
export function looksLikeRetweet(text: string): boolean {
  return text.startsWith('RT @');
}
