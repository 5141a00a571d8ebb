// The HEAD request that tells, before any download, which commit a revision
// is at, which blob a file is (its etag), how large it is, and where its bytes
// are. As huggingface_hub does, only relative redirects are followed: those
// are the hub's own (a renamed repository, `gpt2` → `openai-community/gpt2`);
// an absolute one points at the CDN that holds an LFS file, and the headers
// that describe the file are on that redirect itself (X-Linked-Etag,
// X-Linked-Size), not on the CDN's answer.
import { errorFromResponse, HubError, unreachable, type RequestContext } from './hub-error.js';
import { isBlobEtag, isCommitHash } from './repo-id.js';

export interface FileMetadata {
  /** The commit the revision resolved to (X-Repo-Commit). */
  commit: string;
  /** The blob's name in the cache: a git blob sha1, or an LFS file's sha256. */
  etag: string;
  /** Bytes to expect; unknown only from a server that does not say. */
  size?: number;
  /** Where to GET the bytes: the CDN URL of an LFS file, else the (redirected) resolve URL. */
  location: string;
}

export type HeadResult =
  | { kind: 'found'; metadata: FileMetadata }
  /** The repository is there but this file is not (404 EntryNotFound, or a plain 404 from a simple mirror). */
  | { kind: 'absent'; commit?: string; response: Response };

export interface HubClient {
  fetch: typeof fetch;
  /** Authorization (when there is a token), user-agent, accept-encoding. */
  headers: Record<string, string>;
  headTimeoutMs: number;
  downloadTimeoutMs: number;
}

const MAX_RELATIVE_REDIRECTS = 10;

/** Python's _normalize_etag: a weak validator's `W/` and the quotes go. */
export function normalizeEtag(etag: string | null): string | undefined {
  if (!etag) return undefined;
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '') || undefined;
}


function isRelative(location: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(location) && !location.startsWith('//');
}

export async function headFile(url: string, client: HubClient, ctx: RequestContext): Promise<HeadResult> {
  let current = url;
  for (let hops = 0; ; hops++) {
    let response: Response;
    try {
      response = await client.fetch(current, {
        method: 'HEAD',
        redirect: 'manual',
        headers: client.headers,
        signal: AbortSignal.timeout(client.headTimeoutMs),
      });
    } catch (err) {
      throw unreachable(ctx.endpoint, ctx.repo, err);
    }
    await response.body?.cancel();
    const location = response.headers.get('location');
    const redirected = response.status >= 300 && response.status < 400 && location !== null;

    if (redirected && isRelative(location) && hops < MAX_RELATIVE_REDIRECTS) {
      // Python keeps the query and swaps the path; a hub redirect has no query anyway.
      current = new URL(location, current).href;
      continue;
    }
    if (response.status === 404) {
      const code = response.headers.get('x-error-code');
      if (code === null || code === 'EntryNotFound') {
        // The commit names a folder (.no_exist/<commit>): kept only when it has a commit's shape.
        const commit = response.headers.get('x-repo-commit') ?? '';
        return { kind: 'absent', commit: isCommitHash(commit) ? commit : undefined, response };
      }
    }
    if (!response.ok && !redirected) throw errorFromResponse(response, ctx);

    // The commit and the etag become names in the cache (snapshots/<commit>,
    // blobs/<etag>): each must have the one shape the hub gives it, so that a
    // hostile server's header can never name a path outside the cache.
    const commitHeader = response.headers.get('x-repo-commit');
    const etagHeader = response.headers.has('x-linked-etag') ? 'X-Linked-Etag' : 'ETag';
    const etag = normalizeEtag(response.headers.get(etagHeader));
    const sizeName = response.headers.has('x-linked-size') ? 'X-Linked-Size' : 'Content-Length';
    const sizeHeader = response.headers.get(sizeName);
    if (commitHeader === null || etag === undefined) {
      const missing = commitHeader === null ? 'an X-Repo-Commit header' : 'an ETag';
      throw new HubError(
        'bad-response',
        ctx.repo,
        `${ctx.repo}: ${ctx.endpoint} answered for ${ctx.file} without ${missing}, so it does not look like a Hugging Face hub; check HF_ENDPOINT`,
      );
    }
    const bad = (header: string, value: string, shape: string) =>
      new HubError(
        'bad-response',
        ctx.repo,
        `${ctx.repo}: the answer from ${current} has ${header} ${JSON.stringify(value.slice(0, 100))}, not ${shape}; ` +
          'nothing was written. The server is not a Hugging Face hub or is misbehaving: check HF_ENDPOINT',
      );
    if (!isCommitHash(commitHeader)) throw bad('X-Repo-Commit', commitHeader, 'a commit id (40 hex digits)');
    if (!isBlobEtag(etag)) throw bad(etagHeader, etag, 'a file hash (40 or 64 hex digits)');
    if (sizeHeader !== null && !/^\d{1,15}$/.test(sizeHeader)) throw bad(sizeName, sizeHeader, 'a size in bytes');
    const commit = commitHeader;
    const size = sizeHeader === null ? undefined : Number(sizeHeader);
    return {
      kind: 'found',
      metadata: { commit, etag, size, location: redirected ? new URL(location, current).href : current },
    };
  }
}
