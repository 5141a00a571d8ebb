// What a SOURCE argument means. One place decides it, so the CLI's help, the
// library and the error messages agree.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { SourceError } from './errors.js';

/** The syntax, as shown by `tweetsmith dataset --help` (keep in step with parseSourceString). */
export const SOURCE_SYNTAX = `SOURCE is one of:
  @name, x:name             X account, read through the X API v2 (needs X_BEARER_TOKEN)
  PATH.zip, FOLDER          your X archive ("Download an archive of your data"), zipped or
                            unpacked (the folder that holds data/)
  bsky:name.bsky.social     Bluesky account (public API; bsky:name means name.bsky.social)
  mastodon:@name@host       Mastodon account (public statuses of name on host)
  PATH.jsonl                JSON Lines: one {"text": …} object a line (optional id, created_at,
                            is_retweet)
  PATH.csv                  CSV with a header row and a "text" column (optional id, created_at,
                            is_retweet)
  PATH.txt                  plain text, one post a line
Each SOURCE is one person; 1 to 3 people. Sources that turn out to be the same
account (your archive and @you) are merged, the same post counted once.`;

export type SourceSpec =
  | { kind: 'x-api'; handle: string }
  | { kind: 'x-archive'; path: string }
  | { kind: 'bluesky'; actor: string }
  | { kind: 'mastodon'; username: string; host: string }
  | { kind: 'jsonl'; path: string }
  | { kind: 'csv'; path: string }
  | { kind: 'text'; path: string };

// X's own rule for user names.
const X_HANDLE = /^[A-Za-z0-9_]{1,15}$/;
// A Bluesky handle is a domain name; a DID is did:plc:… or did:web:….
const BSKY_HANDLE = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
const BSKY_DID = /^did:[a-z]+:[A-Za-z0-9._:%-]+$/;
const MASTODON_ACCT = /^@?([A-Za-z0-9_]+(?:[.-][A-Za-z0-9_]+)*)@([A-Za-z0-9.-]+(?::\d+)?)$/;

export function parseSourceString(source: string): SourceSpec {
  const lower = source.toLowerCase();
  if (source.startsWith('@') || lower.startsWith('x:')) {
    const handle = source.replace(/^x:/i, '').replace(/^@/, '');
    if (!X_HANDLE.test(handle)) {
      throw new SourceError(source, `"${handle}" is not an X user name`, 'X names have 1 to 15 letters, digits or _');
    }
    return { kind: 'x-api', handle };
  }
  if (lower.startsWith('bsky:')) {
    let actor = source.slice('bsky:'.length).replace(/^@/, '');
    if (!BSKY_DID.test(actor)) {
      // A bare name is short for a handle on the main Bluesky server.
      if (!actor.includes('.')) actor = `${actor}.bsky.social`;
      if (!BSKY_HANDLE.test(actor)) {
        throw new SourceError(source, `"${actor}" is not a Bluesky handle`, 'write it like bsky:name.bsky.social');
      }
      actor = actor.toLowerCase();
    }
    return { kind: 'bluesky', actor };
  }
  if (lower.startsWith('mastodon:')) {
    const match = MASTODON_ACCT.exec(source.slice('mastodon:'.length));
    if (!match) {
      throw new SourceError(source, 'not a Mastodon account', 'write it like mastodon:@name@mastodon.social');
    }
    return { kind: 'mastodon', username: match[1]!, host: match[2]!.toLowerCase() };
  }
  if (lower.endsWith('.zip')) return { kind: 'x-archive', path: source };
  if (lower.endsWith('.jsonl')) return { kind: 'jsonl', path: source };
  if (lower.endsWith('.csv')) return { kind: 'csv', path: source };
  if (lower.endsWith('.txt')) return { kind: 'text', path: source };
  if (existsSync(source) && statSync(source).isDirectory()) {
    // Whether it really holds data/ is checked when it is read, with a message that says so.
    return { kind: 'x-archive', path: source };
  }
  if (X_HANDLE.test(source) && !existsSync(source)) {
    throw new SourceError(source, 'not a file, a folder, or a known kind of source', `did you mean @${source}?\n${SOURCE_SYNTAX}`);
  }
  throw new SourceError(source, 'not a file, a folder, or a known kind of source', SOURCE_SYNTAX);
}

/** Two source strings with the same key are the same source (`@Jack` and `x:jack`). */
export function sourceKey(spec: SourceSpec): string {
  switch (spec.kind) {
    case 'x-api':
      return `x-api:${spec.handle.toLowerCase()}`;
    case 'bluesky':
      return `bluesky:${spec.actor}`;
    case 'mastodon':
      return `mastodon:${spec.username.toLowerCase()}@${spec.host}`;
    default:
      return `${spec.kind}:${resolve(spec.path)}`;
  }
}
