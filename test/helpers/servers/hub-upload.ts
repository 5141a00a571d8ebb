// A stand-in for the Hugging Face hub's upload side on 127.0.0.1, answering
// the requests @huggingface/hub makes to publish files (read from its source,
// lib/who-am-i.ts, create-repo.ts, create-branch.ts, commit.ts):
//   GET  /api/whoami-v2                                  who the token is
//   POST /api/repos/create                               {name, organization, type, visibility}
//   POST /api/models/{repo}/branch/{branch}              a branch from main
//   POST /api/models/{repo}/preupload/{branch}           which files go through LFS
//   POST /{repo}.git/info/lfs/objects/batch              where to PUT each LFS object
//   PUT  /lfs-upload/{sha256}                            the object's bytes (a signed URL: no token)
//   POST /api/models/{repo}/commit/{branch}              NDJSON: header, file (base64), lfsFile (oid)
// The LFS batch answers with the "basic" transfer, never "xet", which is how the
// library is kept on the plain LFS path (commit.ts: `if (useXet && json.transfer
// !== "xet") useXet = false`). An object the store already holds gets no upload
// action, as on the hub, so a second push does not send it again.
// Errors carry JSON bodies like the hub's ({"error": "..."}), which the library
// reads into HubApiError. `cut` makes the server destroy the socket halfway
// through one request, once.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Account {
  name: string;
  orgs?: string[];
  role?: 'read' | 'write' | 'fineGrained';
}

export interface StoredFile {
  content: Buffer;
  /** Committed as an lfsFile (a pointer to an object uploaded through LFS), not inline. */
  lfs: boolean;
}

export interface ExistingRepo {
  /** "bob/bot" */
  id: string;
  private?: boolean;
  files?: Record<string, string | Buffer>;
}

export interface RecordedCommit {
  repo: string;
  branch: string;
  summary: string;
  /** "file config.json", "lfsFile model.safetensors", in the order sent. */
  operations: string[];
  oid: string;
}

/** Which request loses its connection halfway: an LFS object's PUT, or the commit. */
export type UploadCut = 'lfs-upload' | 'commit';

export interface FakeUploadHubOptions {
  /** token → account */
  accounts: Record<string, Account>;
  repos?: ExistingRepo[];
  /** Files at least this large go through LFS (the hub: 10 MiB, and any binary file). Default 10 MiB. */
  lfsThreshold?: number;
}

interface Repo {
  id: string;
  private: boolean;
  visibility: string;
  branches: Map<string, Map<string, StoredFile>>;
}

export interface FakeUploadHub {
  url: string;
  repos: Map<string, Repo>;
  commits: RecordedCommit[];
  /** sha256 of every LFS object PUT in full, in order. */
  lfsUploads: string[];
  /** The `transfers` each LFS batch request offered. */
  batchTransfers: string[][];
  /** Every request as "METHOD /path", in order. */
  log(): string[];
  /** Requests that carried an Authorization header, as "METHOD /path". */
  withToken(): string[];
  /** Every request body the server received, for scanning. */
  bodies(): string;
  cut?: UploadCut;
  file(repo: string, path: string, branch?: string): StoredFile | undefined;
  close(): Promise<void>;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

export async function startFakeUploadHub(options: FakeUploadHubOptions): Promise<FakeUploadHub> {
  const lfsThreshold = options.lfsThreshold ?? 10 * 1024 * 1024;
  const lfsStore = new Map<string, Buffer>();
  const requests: { line: string; token: boolean }[] = [];
  const seen: string[] = [];
  const repos = new Map<string, Repo>();
  for (const existing of options.repos ?? []) {
    const files = new Map(Object.entries(existing.files ?? {}).map(([path, content]) => [path, { content: Buffer.from(content), lfs: false }]));
    repos.set(existing.id, { id: existing.id, private: !!existing.private, visibility: existing.private ? 'private' : 'public', branches: new Map([['main', files]]) });
  }

  const account = (req: http.IncomingMessage): Account | 'invalid' | undefined => {
    const auth = req.headers.authorization;
    if (auth === undefined) return undefined;
    const match = /^Bearer (.+)$/.exec(auth);
    return (match && options.accounts[match[1]]) || 'invalid';
  };
  const mayWrite = (who: Account, repo: string) => {
    const namespace = repo.split('/')[0];
    return who.role !== 'read' && (who.name === namespace || (who.orgs ?? []).includes(namespace));
  };
  const unauthorized = (res: http.ServerResponse) => json(res, 401, { error: 'Invalid credentials in Authorization header' });

  /** The caller may write to the repository (and branch): else the answer is sent and undefined returned. */
  function writable(req: http.IncomingMessage, res: http.ServerResponse, repoId: string, branch?: string): { repo: Repo; files?: Map<string, StoredFile> } | undefined {
    const who = account(req);
    if (who === 'invalid' || who === undefined) return void unauthorized(res);
    const repo = repos.get(repoId);
    if (!repo || (repo.private && !mayWrite(who, repoId))) {
      return void json(res, 404, { error: 'Repository not found' }, { 'x-error-code': 'RepoNotFound' });
    }
    if (!mayWrite(who, repoId)) return void json(res, 403, { error: `You don't have the rights to write to ${repoId}` });
    if (branch === undefined) return { repo };
    const files = repo.branches.get(branch);
    if (!files) return void json(res, 404, { error: `Invalid rev id: ${branch}` }, { 'x-error-code': 'RevisionNotFound' });
    return { repo, files };
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push({ line: `${req.method} ${pathname}`, token: req.headers.authorization !== undefined });
    const cutNow = (kind: UploadCut) => {
      if (fake.cut !== kind) return false;
      fake.cut = undefined;
      // Take some of the body, then hang up.
      req.once('data', () => req.socket.destroy());
      return true;
    };
    let m: RegExpExecArray | null;

    if (req.method === 'GET' && pathname === '/api/whoami-v2') {
      const who = account(req);
      if (who === 'invalid' || who === undefined) return unauthorized(res);
      return json(res, 200, {
        type: 'user',
        id: `id-${who.name}`,
        name: who.name,
        fullname: who.name,
        email: null,
        emailVerified: false,
        isPro: false,
        orgs: (who.orgs ?? []).map((name) => ({ type: 'org', name, fullname: name })),
        auth: { type: 'access_token', accessToken: { displayName: 'tests', role: who.role ?? 'write', createdAt: '2026-01-01T00:00:00.000Z' } },
      });
    }

    if (req.method === 'PUT' && (m = /^\/lfs-upload\/([0-9a-f]{64})$/.exec(pathname))) {
      if (cutNow('lfs-upload')) return;
      const body = await readBody(req);
      seen.push(body.toString('latin1'));
      if (sha256(body) !== m[1]) return json(res, 400, { error: 'sha256 mismatch' });
      lfsStore.set(m[1], body);
      fake.lfsUploads.push(m[1]);
      res.writeHead(200, { etag: `"${m[1]}"`, 'content-length': '0' }).end();
      return;
    }

    if (req.method !== 'POST') return json(res, 404, { error: 'Not found' });
    if (pathname === '/api/repos/create') {
      const body = JSON.parse((await readBody(req)).toString('utf8'));
      seen.push(JSON.stringify(body));
      const who = account(req);
      if (who === 'invalid' || who === undefined) return unauthorized(res);
      const id = `${body.organization ?? who.name}/${body.name}`;
      if (!mayWrite(who, id)) return json(res, 403, { error: `You don't have the rights to create a model under the namespace "${id.split('/')[0]}"` });
      if (repos.has(id)) return json(res, 409, { error: 'You already created this model repo', url: `${fake.url}/${id}` });
      const visibility = body.visibility ?? 'public';
      repos.set(id, { id, private: visibility === 'private', visibility, branches: new Map([['main', new Map()]]) });
      return json(res, 200, { url: `${fake.url}/${id}`, name: id, id: `id-${id}` });
    }

    if ((m = /^\/api\/models\/([^/]+\/[^/]+)\/branch\/([^/]+)$/.exec(pathname))) {
      const branch = decodeURIComponent(m[2]);
      seen.push((await readBody(req)).toString('utf8'));
      const found = writable(req, res, m[1]);
      if (!found) return;
      if (!found.repo.branches.has(branch)) found.repo.branches.set(branch, new Map(found.repo.branches.get('main')));
      return json(res, 200, {});
    }

    if ((m = /^\/api\/models\/([^/]+\/[^/]+)\/preupload\/([^/]+)$/.exec(pathname))) {
      const body = JSON.parse((await readBody(req)).toString('utf8')) as { files: { path: string; size: number; sample: string }[] };
      seen.push(JSON.stringify(body));
      if (!writable(req, res, m[1], decodeURIComponent(m[2]))) return;
      return json(res, 200, {
        files: body.files.map((f) => ({
          path: f.path,
          uploadMode: f.size >= lfsThreshold || Buffer.from(f.sample, 'base64').includes(0) ? 'lfs' : 'regular',
          shouldIgnore: false,
        })),
      });
    }

    if ((m = /^\/([^/]+\/[^/]+)\.git\/info\/lfs\/objects\/batch$/.exec(pathname))) {
      const body = JSON.parse((await readBody(req)).toString('utf8')) as { transfers: string[]; objects: { oid: string; size: number }[]; ref?: { name: string } };
      seen.push(JSON.stringify(body));
      if (!writable(req, res, m[1])) return;
      fake.batchTransfers.push(body.transfers);
      const objects = body.objects.map(({ oid, size }) =>
        lfsStore.has(oid) ? { oid, size } : { oid, size, authenticated: true, actions: { upload: { href: `${fake.url}/lfs-upload/${oid}?X-Amz-Signature=signed`, header: {} } } },
      );
      return json(res, 200, { transfer: 'basic', objects }, { 'content-type': 'application/vnd.git-lfs+json' });
    }

    if ((m = /^\/api\/models\/([^/]+\/[^/]+)\/commit\/([^/]+)$/.exec(pathname))) {
      if (cutNow('commit')) return;
      const body = (await readBody(req)).toString('utf8');
      seen.push(body);
      const branch = decodeURIComponent(m[2]);
      const found = writable(req, res, m[1], branch);
      if (!found?.files) return;
      const lines = body.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { key: string; value: Record<string, string> });
      const header = lines.find((l) => l.key === 'header')?.value;
      const changes = new Map<string, StoredFile>();
      const operations: string[] = [];
      for (const { key, value } of lines) {
        if (key === 'file') changes.set(value.path, { content: Buffer.from(value.content, value.encoding === 'base64' ? 'base64' : 'utf8'), lfs: false });
        else if (key === 'lfsFile') {
          const object = lfsStore.get(value.oid);
          if (!object) return json(res, 422, { error: `LFS object ${value.oid} of ${value.path} was never uploaded` });
          changes.set(value.path, { content: object, lfs: true });
        } else if (key !== 'header') return json(res, 400, { error: `unknown operation ${key}` });
        if (key !== 'header') operations.push(`${key} ${value.path}`);
      }
      for (const [path, file] of changes) found.files.set(path, file);
      const oid = createHash('sha1').update(`${fake.commits.length}:${body}`).digest('hex');
      fake.commits.push({ repo: m[1], branch, summary: header?.summary ?? '', operations, oid });
      return json(res, 200, { success: true, commitOid: oid, commitUrl: `${fake.url}/${m[1]}/commit/${oid}`, hookOutput: '' });
    }
    return json(res, 404, { error: 'Not found' });
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: String(err) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const fake: FakeUploadHub = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    repos,
    commits: [],
    lfsUploads: [],
    batchTransfers: [],
    log: () => requests.map((r) => r.line),
    withToken: () => requests.filter((r) => r.token).map((r) => r.line),
    bodies: () => seen.join('\n'),
    file: (repo, path, branch = 'main') => repos.get(repo)?.branches.get(branch)?.get(path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}
