// How @huggingface/hub's downloads (downloadFileToCacheDir, snapshotDownload)
// behave against our fake hub and a hostile one: prints, per scenario, what the
// call returned or threw and every file it left under a scratch root (the cache
// is a/b/cache inside it, so anything outside a/b/cache escaped). Findings:
// docs/hub-library.md. Run: npx tsx scripts/hub-library-eval.mts
import { downloadFileToCacheDir, snapshotDownload } from '@huggingface/hub';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { lstat, mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startFakeHub } from '../test/helpers/servers/hub.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const HEAD = 'a'.repeat(40), LAST = 'b'.repeat(40);

async function tree(dir: string, sub = ''): Promise<string[]> {
  const out: string[] = [];
  let names: string[] = [];
  try { names = (await readdir(join(dir, sub))).sort(); } catch { return out; }
  for (const name of names) {
    const rel = sub ? `${sub}/${name}` : name;
    const s = await lstat(join(dir, rel));
    if (s.isSymbolicLink()) out.push(`${rel} -> ${await readlink(join(dir, rel))}`);
    else if (s.isDirectory()) { out.push(`${rel}/`); out.push(...await tree(dir, rel)); }
    else out.push(`${rel} (${s.size} B)`);
  }
  return out;
}

interface Hostile { etag?: string; lastCommit?: string; sha?: string; announce?: number; body?: Buffer; cut?: boolean }
async function libHub(files: Record<string, Buffer>, h: Hostile = {}) {
  const server = http.createServer(async (req, res) => {
    const u = new URL(req.url!, 'http://x');
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => { const t = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body); res.writeHead(status, { 'content-type': 'application/json', ...headers }); res.end(t); };
    let m;
    const entry = (path: string) => { const c = files[path]; return { type: 'file', path, size: c.length, oid: createHash('sha1').update(c).digest('hex'), lfs: { oid: h.etag ?? sha256(c), size: c.length, pointerSize: 130 }, lastCommit: { id: h.lastCommit ?? LAST, title: 't', date: '2026-01-01T00:00:00Z' } }; };
    if ((m = /^\/api\/models\/(.+)\/paths-info\/(.+)$/.exec(u.pathname))) {
      const body = JSON.parse(await new Promise<string>((r) => { let s = ''; req.on('data', (c) => (s += c)); req.on('end', () => r(s)); }));
      return send(200, body.paths.map(entry));
    }
    if ((m = /^\/api\/models\/(.+)\/revision\/(.+)$/.exec(u.pathname))) return send(200, { _id: 'x', id: m[1], sha: h.sha ?? HEAD, private: false });
    if ((m = /^\/api\/models\/(.+)\/tree\/(.+)$/.exec(u.pathname))) return send(200, Object.keys(files).map(entry));
    if ((m = /^\/(.+)\/resolve\/([^/]+)\/(.+)$/.exec(u.pathname))) {
      const c = h.body ?? files[decodeURIComponent(m[3])];
      const size = h.announce ?? c.length;
      if (req.headers.range === 'bytes=0-0') return send(206, c.subarray(0, 1), { 'content-range': `bytes 0-0/${size}`, etag: `"${sha256(c)}"`, 'x-repo-commit': HEAD });
      if (h.cut) { res.writeHead(200, { 'content-length': String(c.length) }); res.write(c.subarray(0, c.length >> 1), () => res.socket?.destroy()); return; }
      return send(200, c, { 'content-length': String(c.length) });
    }
    send(404, { error: 'nope' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as any).port}`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

async function scenario(name: string, fn: (root: string, cache: string) => Promise<unknown>) {
  const root = await mkdtemp(join(tmpdir(), 'hfjs-eval-'));
  const cache = join(root, 'a', 'b', 'cache');
  let outcome: string;
  try { outcome = `returned ${relative(root, String(await fn(root, cache)))}`; } catch (e) { outcome = `threw ${(e as Error).name}: ${(e as Error).message.slice(0, 200)}`; }
  console.log(`\n## ${name}\n${outcome}\nfiles under the scratch root (cache = a/b/cache):\n  ${(await tree(root)).join('\n  ')}`);
  await rm(root, { recursive: true, force: true });
}

const weights = Buffer.from('weights'.repeat(100));
const config = Buffer.from('{"model_type":"gpt2"}');
const files = { 'config.json': config, 'model.safetensors': weights };

await scenario('existing fake hub (test/helpers/servers/hub.ts), downloadFileToCacheDir config.json', async (_root, cache) => {
  const hub = await startFakeHub({ repos: [{ id: 'openai-community/gpt2', commit: HEAD, files: { 'config.json': config } }] });
  try { return await downloadFileToCacheDir({ repo: 'openai-community/gpt2', path: 'config.json', hubUrl: hub.url, cacheDir: cache }); } finally { console.log('requests:', hub.log().join(', ')); await hub.close(); }
});
for (const [name, h, snap] of [
  ['honest hub, downloadFileToCacheDir both files at main (file last changed in b…, main at a…)', {}, false],
  ['honest hub, snapshotDownload main', {}, true],
  ['hostile etag "../../../../escaped-etag"', { etag: '../../../../escaped-etag' }, false],
  ['hostile lastCommit.id "../../../../escaped-commit"', { lastCommit: '../../../../escaped-commit' }, false],
  ['hostile sha in snapshotDownload "../../../escaped-sha"', { sha: '../../../escaped-sha' }, true],
  ['body of 1000 bytes where 10 were announced', { announce: 10, body: Buffer.alloc(1000, 7) }, false],
  ['connection cut halfway through the body', { cut: true }, false],
  ['body whose sha256 is not the etag (lfs.oid)', { body: Buffer.alloc(700, 9) }, false],
] as [string, Hostile, boolean][]) {
  await scenario(name, async (_root, cache) => {
    const hub = await libHub(files, h);
    try {
      if (snap) return await snapshotDownload({ repo: 'org/m', hubUrl: hub.url, cacheDir: cache });
      let last = '';
      for (const path of Object.keys(files)) last = await downloadFileToCacheDir({ repo: 'org/m', path, hubUrl: hub.url, cacheDir: cache });
      return last;
    } finally { await hub.close(); }
  });
}
