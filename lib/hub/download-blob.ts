// The GET that fills one blob: bytes go to `blobs/<etag>.incomplete` and
// become `blobs/<etag>` only once their count matches what the HEAD promised
// (and, for an LFS file, their sha256 matches its etag). Anything short of
// that removes the partial file, so the cache never holds a broken blob.
import { createHash } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { errorFromResponse, HubError, describeNetworkError, unreachable, type RequestContext } from './hub-error.js';
import type { HubClient } from './file-metadata.js';

export interface DownloadProgress {
  file: string;
  received: number;
  total?: number;
}

export interface BlobDownload {
  url: string;
  incompletePath: string;
  blobPath: string;
  etag: string;
  expectedSize?: number;
  progress?: (event: DownloadProgress) => void;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** The CDN's signed URLs carry credentials in their query: messages show origin and path only. */
function shortUrl(url: string): string {
  const { origin, pathname } = new URL(url);
  return origin + pathname;
}

export async function downloadBlob(download: BlobDownload, client: HubClient, ctx: RequestContext): Promise<void> {
  const { url, incompletePath, blobPath, etag, expectedSize, progress } = download;
  const headers = { ...client.headers };
  // The token is for the hub; the CDN that holds LFS files gets a signed URL instead.
  if (new URL(url).host !== new URL(ctx.endpoint).host) delete headers.authorization;

  // Abort when no byte has come for a while (a stalled connection), not after a fixed total time.
  const stall = new AbortController();
  let stallTimer = setTimeout(() => stall.abort(new DOMException('no data in time', 'TimeoutError')), client.downloadTimeoutMs);
  const fed = () => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => stall.abort(new DOMException('no data in time', 'TimeoutError')), client.downloadTimeoutMs);
  };

  let received = 0;
  const fail = async (problem: string, cause?: unknown): Promise<never> => {
    await rm(incompletePath, { force: true });
    throw new HubError('download-failed', ctx.repo, `${ctx.repo}: ${problem}; the partial file was removed, run again to retry`, { cause });
  };

  try {
    let response: Response;
    try {
      response = await client.fetch(url, { headers, redirect: 'follow', signal: stall.signal });
    } catch (err) {
      throw unreachable(new URL(url).origin === new URL(ctx.endpoint).origin ? ctx.endpoint : shortUrl(url), ctx.repo, err);
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw errorFromResponse(response, ctx);
    }

    // The file may be no larger than the hub announced (X-Linked-Size or
    // Content-Length on the HEAD); when the HEAD said nothing, the GET's own
    // Content-Length is the announcement. Bytes are counted as they come and
    // the download stops at the first byte past it.
    const getLength = response.headers.get('content-length');
    const getSize = getLength !== null && /^\d{1,15}$/.test(getLength) ? Number(getLength) : undefined;
    const announced = expectedSize ?? getSize;
    if (announced === undefined) {
      await response.body.cancel().catch(() => {});
      return await fail(`${ctx.file} from ${shortUrl(url)} came without a size (no X-Linked-Size nor Content-Length), so how much to accept is unknown`);
    }
    if (getSize !== undefined && getSize > announced) {
      await response.body.cancel().catch(() => {});
      return await fail(`${ctx.file} from ${shortUrl(url)} announced ${getSize} bytes, more than the ${announced} the hub announced`);
    }

    const hash = SHA256.test(etag) ? createHash('sha256') : undefined;
    const out = await open(incompletePath, 'w');
    try {
      progress?.({ file: ctx.file, received, total: announced });
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        fed();
        received += chunk.byteLength;
        // Past the announced size: stop before writing a byte of it.
        if (received > announced) break;
        await out.write(chunk);
        hash?.update(chunk);
        progress?.({ file: ctx.file, received, total: announced });
      }
    } catch (err) {
      await out.close();
      const total = ` of ${announced}`;
      return await fail(`the download of ${ctx.file} was cut off after ${received}${total} bytes (${describeNetworkError(err)})`, err);
    }
    await out.close();

    if (received > announced) {
      await response.body.cancel().catch(() => {});
      await fail(`${ctx.file} from ${shortUrl(url)} came with more than the ${announced} bytes the hub announced`);
    }
    if (received !== announced) {
      await fail(`${ctx.file} from ${shortUrl(url)} came with ${received} bytes instead of the ${announced} the hub announced`);
    }
    if (hash && hash.digest('hex') !== etag) {
      await fail(`${ctx.file} from ${shortUrl(url)} does not match its sha256 ${etag}`);
    }
    await rename(incompletePath, blobPath);
  } finally {
    clearTimeout(stallTimer);
  }
}
