// A stand-in for the Hugging Face hub on 127.0.0.1, answering `resolve` URLs
// with the headers the real hub sends: X-Repo-Commit on everything about an
// existing repository, ETag = the git blob sha1 of a regular file, and for an
// LFS file a 302 to the CDN carrying X-Linked-Etag (its sha256) and
// X-Linked-Size; a renamed repository answers 307 with a relative Location;
// errors carry X-Error-Code (RepoNotFound, RevisionNotFound, EntryNotFound,
// GatedRepo) and, without a valid token, a private repository reads as a 401
// RepoNotFound. The CDN is a /cdn/<sha256> path on the same server, or a
// second server (another host for fetch) when `separateCdn` is set.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RecordedRequest } from './local-server.js';

export interface FakeHubRepo {
  /** "openai-community/gpt2". */
  id: string;
  /** 40 hex: what `main` points at. */
  commit: string;
  files: Record<string, string | Buffer>;
  /** Files stored with git LFS: served from the CDN. */
  lfs?: string[];
  /** Readable only with the hub's token. */
  private?: boolean;
  gated?: boolean;
}

/** How the CDN misbehaves: serve fewer bytes, drop the connection halfway, or flip a byte. */
export type CdnFault = 'short' | 'cut' | 'corrupt';

export interface FakeHubOptions {
  repos: FakeHubRepo[];
  /** Old id → new id, answered with a 307 as the hub does for `gpt2`. */
  renamed?: Record<string, string>;
  /** The one token the hub accepts. */
  token?: string;
  separateCdn?: boolean;
}

export interface FakeHub {
  /** http://127.0.0.1:PORT, the endpoint. */
  url: string;
  cdnUrl: string;
  /** Every request to the hub and to the CDN, in order. */
  requests: RecordedRequest[];
  repos: FakeHubRepo[];
  cdnFault?: CdnFault;
  /** Requests as "METHOD /path" lines, for assertions. */
  log(): string[];
  close(): Promise<void>;
}

export function gitBlobSha1(content: string | Buffer): string {
  const bytes = Buffer.from(content);
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

export function sha256(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body?: Buffer;
}

function text(status: number, message: string, headers: Record<string, string> = {}): Answer {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers }, body: Buffer.from(message) };
}

async function listen(handler: http.RequestListener): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

export async function startFakeHub(options: FakeHubOptions): Promise<FakeHub> {
  const requests: RecordedRequest[] = [];
  const record = (req: http.IncomingMessage) => requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers });

  function authorized(req: http.IncomingMessage): boolean | 'invalid' {
    const auth = req.headers.authorization;
    if (auth === undefined) return false;
    return auth === `Bearer ${options.token}` ? true : 'invalid';
  }

  function resolveAnswer(req: http.IncomingMessage, pathname: string): Answer {
    const at = pathname.indexOf('/resolve/');
    const id = pathname.slice(1, at);
    const [rawRevision = '', ...rest] = pathname.slice(at + '/resolve/'.length).split('/');
    const revision = decodeURIComponent(rawRevision);
    const file = rest.map(decodeURIComponent).join('/');

    const newId = options.renamed?.[id];
    if (newId) {
      const location = `/${newId}/resolve/${rawRevision}/${rest.join('/')}`;
      return text(307, `Temporary Redirect. Redirecting to ${location}`, { location });
    }
    const auth = authorized(req);
    if (auth === 'invalid') return text(401, 'Invalid credentials', { 'x-error-message': 'Invalid credentials in Authorization header' });
    const repo = fake.repos.find((r) => r.id === id);
    if (!repo || (repo.private && !auth)) {
      // Without a token the hub does not say whether a private repository exists.
      return text(auth ? 404 : 401, 'Repository not found', { 'x-error-code': 'RepoNotFound', 'x-error-message': 'Repository not found' });
    }
    if (repo.gated && !auth) {
      return text(401, 'gated', {
        'x-error-code': 'GatedRepo',
        'x-error-message': `Access to model ${id} is restricted. You must have access to it and be authenticated to access it. Please log in.`,
      });
    }
    if (revision !== 'main' && revision !== repo.commit) {
      return text(404, 'Revision not found', { 'x-error-code': 'RevisionNotFound', 'x-error-message': `Invalid rev id: ${revision}` });
    }
    const commitHeaders = { 'x-repo-commit': repo.commit };
    const content = repo.files[file];
    if (content === undefined) {
      return text(404, 'Entry not found', { ...commitHeaders, 'x-error-code': 'EntryNotFound', 'x-error-message': 'Entry not found' });
    }
    const bytes = Buffer.from(content);
    if (repo.lfs?.includes(file)) {
      const sha = sha256(bytes);
      const location = `${fake.cdnUrl}/cdn/${sha}?X-Amz-Signature=signed-by-the-hub`;
      return text(302, `Found. Redirecting to ${location}`, {
        ...commitHeaders,
        location,
        'x-linked-etag': `"${sha}"`,
        'x-linked-size': String(bytes.length),
        // The redirect's own etag: a weak one that must lose to X-Linked-Etag.
        etag: `W/"${bytes.length.toString(16)}-redirect"`,
      });
    }
    return {
      status: 200,
      headers: {
        ...commitHeaders,
        'content-type': file.endsWith('.json') ? 'application/json' : 'text/plain; charset=utf-8',
        etag: `"${gitBlobSha1(bytes)}"`,
        'accept-ranges': 'bytes',
      },
      body: bytes,
    };
  }

  function cdnBlob(pathname: string): Buffer | undefined {
    const sha = pathname.slice('/cdn/'.length);
    for (const repo of fake.repos) {
      for (const file of repo.lfs ?? []) {
        const content = repo.files[file];
        if (content !== undefined && sha256(content) === sha) return Buffer.from(content);
      }
    }
    return undefined;
  }

  function serveCdn(req: http.IncomingMessage, res: http.ServerResponse, pathname: string): void {
    const blob = cdnBlob(pathname);
    if (!blob) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('NoSuchKey');
      return;
    }
    const fault = fake.cdnFault;
    let body = blob;
    if (fault === 'short') body = blob.subarray(0, blob.length - 10);
    if (fault === 'corrupt') body = Buffer.from(blob).fill(0, 0, 1);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length), etag: `"${sha256(blob)}"` });
    if (req.method === 'HEAD') {
      res.end();
    } else if (fault === 'cut') {
      // Promise the whole file, send half, hang up.
      res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
    } else {
      res.end(body);
    }
  }

  function handle(req: http.IncomingMessage, res: http.ServerResponse, cdnOnly: boolean): void {
    record(req);
    const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (pathname.startsWith('/cdn/')) {
      serveCdn(req, res, pathname);
      return;
    }
    const answer = !cdnOnly && pathname.includes('/resolve/') ? resolveAnswer(req, pathname) : text(404, 'Not found');
    res.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body?.length ?? 0) });
    res.end(req.method === 'HEAD' ? undefined : answer.body);
  }

  const hub = await listen((req, res) => handle(req, res, false));
  const cdn = options.separateCdn ? await listen((req, res) => handle(req, res, true)) : undefined;

  const fake: FakeHub = {
    url: hub.url,
    cdnUrl: cdn?.url ?? hub.url,
    requests,
    repos: options.repos,
    log: () => requests.map((r) => `${r.method} ${r.url.split('?')[0]}`),
    close: async () => {
      await closeServer(hub.server);
      if (cdn) await closeServer(cdn.server);
    },
  };
  return fake;
}
