// From source strings to the posts of each person (pipeline.md §1).
//
// Each source string is one person's posts. Two sources that turn out to be
// the same account — your X archive and @you through the API, which overlap —
// make one person, and a post present in both counts once (same id space and
// id). Naming the same source twice (`@Jack @jack`) is ignored.
import type { Author, Post, SourcePosts } from '../sources/post.js';
import { readSource, type SourceOptions } from '../sources/read-source.js';
import { parseSourceString, sourceKey, type SourceSpec } from '../sources/source-string.js';
import { MAX_USERS, type DatasetUser } from './dataset.js';
import { normalizeHandle } from './handles.js';
import { terminalText } from '../terminal-text.js';

export interface UserPosts extends DatasetUser {
  /** The source strings this person's posts came from. */
  sources: string[];
  posts: Post[];
}

export async function collectPosts(sources: readonly string[], options: SourceOptions = {}): Promise<UserPosts[]> {
  if (sources.length === 0) throw new Error('no source given: name 1 to 3 people (for example @jack or your archive .zip)');
  // Every source string is checked before anything is downloaded.
  const specs = new Map<string, { source: string; spec: SourceSpec }>();
  for (const source of sources) {
    const spec = parseSourceString(source);
    const key = sourceKey(spec);
    if (!specs.has(key)) specs.set(key, { source, spec });
  }
  const namedAccounts = new Set([...specs.values()].map(({ spec }) => accountOf(spec)).filter((a) => a !== undefined));
  if (namedAccounts.size > MAX_USERS) throw tooManyPeople([...namedAccounts]);

  const progress = options.progress ?? process.stderr;
  const users = new Map<string, UserPosts>();
  const seenPosts = new Map<string, Set<string>>();
  for (const { source } of specs.values()) {
    // A file name from a glob can hold anything, escape sequences included.
    progress.write(`reading ${terminalText(source)}\n`);
    const read = await readSource(source, { ...options, progress });
    const handle = normalizeHandle(read.profile.handle);
    const user = users.get(handle) ?? { handle, posts: [], sources: [] };
    users.set(handle, user);
    mergeProfile(user, read.profile);
    user.sources.push(source);
    const seen = seenPosts.get(handle) ?? new Set<string>();
    seenPosts.set(handle, seen);
    addNewPosts(user, read, seen);
  }
  if (users.size > MAX_USERS) throw tooManyPeople([...users.keys()]);
  // In handle order, like the model name, so that the order the sources were named in changes nothing.
  return [...users.values()].sort((a, b) => (a.handle < b.handle ? -1 : a.handle > b.handle ? 1 : 0));
}

function addNewPosts(user: UserPosts, read: SourcePosts, seen: Set<string>): void {
  for (const post of read.posts) {
    const key = `${read.idSpace}\u0000${post.id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    user.posts.push(post);
  }
}

/** The first source that knows a display name or picture gives it. */
function mergeProfile(user: UserPosts, profile: Author): void {
  if (user.name === undefined && profile.name !== undefined) user.name = profile.name;
  if (user.avatarUrl === undefined && profile.avatarUrl !== undefined) user.avatarUrl = profile.avatarUrl;
}

/** The account a source names before it is read (files and archives say only once read). */
function accountOf(spec: SourceSpec): string | undefined {
  switch (spec.kind) {
    case 'x-api':
      return normalizeHandle(spec.handle);
    case 'bluesky':
      return spec.actor;
    case 'mastodon':
      return `${spec.username}@${spec.host}`.toLowerCase();
    default:
      return undefined;
  }
}

function tooManyPeople(handles: string[]): Error {
  return new Error(`${handles.length} people (${handles.map((h) => `@${h}`).join(', ')}): a model is made from 1 to ${MAX_USERS}`);
}
