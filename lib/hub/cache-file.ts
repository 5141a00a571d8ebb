// One file of a hub repository into the cache, huggingface_hub's
// hf_hub_download in short: HEAD for commit and etag; the snapshot already
// has it → done; the blob is there (another revision shares it) → link it;
// else download it under the blob's lock and link it. A file the hub says is
// absent is remembered in `.no_exist/<commit>/`, so later runs need not ask.
import { existsSync } from 'node:fs';
import { acquireBlobLock } from './blob-lock.js';
import type { RepoCache } from './cache-layout.js';
import { downloadBlob, type DownloadProgress } from './download-blob.js';
import { headFile, type HubClient } from './file-metadata.js';
import type { RequestContext } from './hub-error.js';
import { isCommitHash, resolveUrl } from './repo-id.js';

export interface HubSession {
  endpoint: string;
  client: HubClient;
  hasToken: boolean;
  progress?: (event: DownloadProgress) => void;
}

export type CachedFile =
  | { kind: 'cached'; commit: string; path: string }
  /** `response` is the hub's 404, absent when the cache already knew. */
  | { kind: 'absent'; commit?: string; response?: Response };

export function requestContext(session: HubSession, cache: RepoCache, revision: string, file: string): RequestContext {
  return { endpoint: session.endpoint, repo: cache.repo, revision, file, hasToken: session.hasToken };
}

export async function cacheFile(cache: RepoCache, session: HubSession, revision: string, file: string): Promise<CachedFile> {
  // A commit's files never change, so what the cache holds for it needs no request.
  if (isCommitHash(revision)) {
    if (cache.hasFile(revision, file)) return { kind: 'cached', commit: revision, path: cache.pointerPath(revision, file) };
    if (cache.knownAbsent(revision, file)) return { kind: 'absent', commit: revision };
  }

  const ctx = requestContext(session, cache, revision, file);
  const head = await headFile(resolveUrl(session.endpoint, cache.repo, revision, file), session.client, ctx);
  if (head.kind === 'absent') {
    const commit = head.commit ?? (isCommitHash(revision) ? revision : undefined);
    if (commit) {
      await cache.markAbsent(commit, file);
      await cache.saveRef(revision, commit);
    }
    return { kind: 'absent', commit, response: head.response };
  }

  const { commit, etag, size, location } = head.metadata;
  await cache.saveRef(revision, commit);
  const found = { kind: 'cached', commit, path: cache.pointerPath(commit, file) } as const;
  if (cache.hasFile(commit, file)) return found;

  const blobPath = cache.blobPath(etag);
  if (existsSync(blobPath)) {
    await cache.link(etag, commit, file, false);
    return found;
  }

  const incompletePath = `${blobPath}.incomplete`;
  const lock = await acquireBlobLock(cache.lockPath(etag), incompletePath);
  try {
    // Whoever held the lock before us may have written this very blob.
    const downloaded = !existsSync(blobPath);
    if (downloaded) {
      await cache.ensureDirs();
      await downloadBlob({ url: location, incompletePath, blobPath, etag, expectedSize: size, progress: session.progress }, session.client, ctx);
    }
    if (!cache.hasFile(commit, file)) await cache.link(etag, commit, file, downloaded);
  } finally {
    await lock.release();
  }
  return found;
}
