// Posts from the X archive a user downloads themselves (formats-and-apis.md §1).
import { stat } from 'node:fs/promises';
import { openArchiveFolder, openArchiveZip, type ArchiveFiles } from './archive-files.js';
import { parseTwitterDate } from './dates.js';
import { SourceError } from './errors.js';
import { looksLikeRetweet, type Author, type Post, type SourcePosts } from './post.js';

// tweets.js (tweet.js before late 2022), then tweets-part1.js, tweets-part2.js, …
// Nothing looser: tweet-headers.js, deleted-tweets.js, note-tweet.js and others
// also start with "tweet" but hold other data.
const TWEET_FILE = /^(tweets?)(?:-part(\d+))?\.js$/;

/** The archive's tweet files in reading order: part 0 first, then the numbered parts numerically. */
export function tweetFilesInOrder(dataFiles: readonly string[]): string[] {
  return dataFiles
    .map((name) => ({ name, match: TWEET_FILE.exec(name) }))
    .filter((file) => file.match !== null)
    .sort((a, b) => {
      const partA = Number(a.match![2] ?? 0);
      const partB = Number(b.match![2] ?? 0);
      return partA - partB || a.name.localeCompare(b.name);
    })
    .map((file) => file.name);
}

/**
 * The JSON inside an archive file: `window.YTD.tweets.part0 = [ … ]`. The
 * prefix is cut at the first `[` after the `=` and the rest is parsed as JSON;
 * the file is never evaluated as code (it comes from a download, and need not
 * be trusted).
 */
export function parseArchiveScript(text: string): unknown[] | undefined {
  const equals = text.indexOf('=');
  const start = text.indexOf('[', equals + 1);
  if (equals < 0 || start < 0) return undefined;
  const json = text.slice(start).trimEnd().replace(/;$/, '');
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export async function readXArchive(source: string, path: string): Promise<SourcePosts> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(path)).isDirectory();
  } catch {
    throw new SourceError(source, 'no such file or folder');
  }
  const files = isFolder ? await openArchiveFolder(source, path) : await openArchiveZip(source, path);
  try {
    const profile = await readProfile(source, files);
    const tweetFiles = tweetFilesInOrder(files.dataFiles);
    if (tweetFiles.length === 0) {
      throw new SourceError(source, 'has no tweets file (data/tweets.js or data/tweet.js)', 'is this the whole archive X sent?');
    }
    const posts: Post[] = [];
    const seen = new Set<string>();
    for (const name of tweetFiles) {
      for (const post of await readTweetFile(source, files, name, profile)) {
        if (seen.has(post.id)) continue;
        seen.add(post.id);
        posts.push(post);
      }
    }
    return { source, idSpace: 'x', profile, posts };
  } finally {
    files.close();
  }
}

async function readScript(source: string, files: ArchiveFiles, name: string): Promise<unknown[]> {
  const items = parseArchiveScript(await files.readDataFile(name));
  if (!items) {
    throw new SourceError(source, `data/${name} is not in the archive format (window.YTD.… = [ … ])`, 'the archive may be damaged: download it again');
  }
  return items;
}

interface ArchiveAccount {
  account?: { username?: string; accountDisplayName?: string };
}
interface ArchiveProfile {
  profile?: { avatarMediaUrl?: string };
}

async function readProfile(source: string, files: ArchiveFiles): Promise<Author> {
  if (!files.dataFiles.includes('account.js')) {
    throw new SourceError(source, 'has no data/account.js, so whose tweets these are is unknown', 'is this the whole archive X sent?');
  }
  const account = ((await readScript(source, files, 'account.js'))[0] as ArchiveAccount | undefined)?.account;
  if (!account?.username) throw new SourceError(source, 'data/account.js names no account (no username)');
  const author: Author = { handle: account.username };
  if (account.accountDisplayName) author.name = account.accountDisplayName;
  if (files.dataFiles.includes('profile.js')) {
    const profile = ((await readScript(source, files, 'profile.js'))[0] as ArchiveProfile | undefined)?.profile;
    if (profile?.avatarMediaUrl) author.avatarUrl = profile.avatarMediaUrl;
  }
  return author;
}

interface ArchiveTweet {
  tweet?: { id_str?: string; id?: string; full_text?: string; text?: string; created_at?: string };
}

async function readTweetFile(source: string, files: ArchiveFiles, name: string, author: Author): Promise<Post[]> {
  const items = await readScript(source, files, name);
  return items.map((item, index) => {
    const tweet = (item as ArchiveTweet).tweet ?? (item as ArchiveTweet['tweet']);
    const id = tweet?.id_str ?? tweet?.id;
    const text = tweet?.full_text ?? tweet?.text;
    if (typeof id !== 'string' || typeof text !== 'string') {
      throw new SourceError(source, `data/${name}: item ${index + 1} is not a tweet (no id or full_text)`);
    }
    return {
      id,
      text,
      createdAt: (tweet!.created_at && parseTwitterDate(tweet!.created_at)) || '',
      // The archive's `retweeted` flag says nothing; the text is the only sign.
      isRetweet: looksLikeRetweet(text),
      author,
    };
  });
}
