// Posts from the X archive a user downloads themselves (formats-and-apis.md §1).
import { stat } from 'node:fs/promises';
import { openArchiveFolder, openArchiveZip, type ArchiveFiles, type ArchiveOptions } from './archive-files.js';
import { parseTwitterDate } from './dates.js';
import { SourceError } from './errors.js';
import { FieldReader, isObject } from './json-fields.js';
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

export async function readXArchive(source: string, path: string, options: ArchiveOptions = {}): Promise<SourcePosts> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(path)).isDirectory();
  } catch {
    throw new SourceError(source, 'no such file or folder');
  }
  const files = isFolder ? await openArchiveFolder(source, path, options) : await openArchiveZip(source, path, options);
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

/** The first item's `key` object of data/NAME (`[{"account": {…}}]`), or undefined when there is none. */
async function firstRecord(source: string, files: ArchiveFiles, name: string, key: string): Promise<FieldReader | undefined> {
  const items = await readScript(source, files, name);
  if (items.length === 0) return undefined;
  return FieldReader.of(source, `data/${name}: item 1`, items[0]).optionalObject(key);
}

async function readProfile(source: string, files: ArchiveFiles): Promise<Author> {
  if (!files.dataFiles.includes('account.js')) {
    throw new SourceError(source, 'has no data/account.js, so whose tweets these are is unknown', 'is this the whole archive X sent?');
  }
  const account = await firstRecord(source, files, 'account.js', 'account');
  const username = account?.optionalString('username');
  if (!username) throw new SourceError(source, 'data/account.js names no account (no username)');
  const author: Author = { handle: username };
  const name = account!.optionalString('accountDisplayName');
  if (name) author.name = name;
  if (files.dataFiles.includes('profile.js')) {
    const avatar = (await firstRecord(source, files, 'profile.js', 'profile'))?.optionalString('avatarMediaUrl');
    if (avatar) author.avatarUrl = avatar;
  }
  return author;
}

async function readTweetFile(source: string, files: ArchiveFiles, name: string, author: Author): Promise<Post[]> {
  const items = await readScript(source, files, name);
  return items.map((item, index) => {
    const where = `data/${name}: item ${index + 1}`;
    // Each item is {"tweet": {…}}; some older archives have the tweet itself.
    const outer = FieldReader.of(source, where, item, 'a tweet');
    const tweet = isObject(outer.object.tweet) ? outer.optionalObject('tweet')! : outer;
    const id = tweet.optionalString('id_str') ?? tweet.optionalString('id');
    const text = tweet.optionalString('full_text') ?? tweet.optionalString('text');
    if (id === undefined || text === undefined) {
      throw new SourceError(source, `${where} is not a tweet (no id or full_text)`);
    }
    const createdAt = tweet.optionalString('created_at');
    return {
      id,
      text,
      createdAt: (createdAt && parseTwitterDate(createdAt)) || '',
      // The archive's `retweeted` flag says nothing; the text is the only sign.
      isRetweet: looksLikeRetweet(text),
      author,
    };
  });
}
