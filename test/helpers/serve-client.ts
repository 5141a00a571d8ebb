// A client for `tweetsmith serve`'s HTTP API in tests: requests on 127.0.0.1
// (raw paths, unnormalised, for the traversal tests), server-sent events, the
// demo archive zipped, and a record of every answer's body (the token test
// greps them all).
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import yazl from 'yazl';

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** the body as JSON, or undefined when it is not JSON */
  json: any;
}

/** Every body the server answered in this process, for the token test. */
export const answeredBodies: string[] = [];

export interface RequestOptions {
  headers?: Record<string, string>;
  /** a JSON value (sent as application/json) or raw bytes */
  json?: unknown;
  body?: Buffer | string;
  /** sent as the request's own Origin header (default: the server's origin for anything but GET) */
  origin?: string | null;
}

/** One request; `path` is sent exactly as written (no URL normalisation of `..` or `%2f`). */
export function call(port: number, method: string, path: string, options: RequestOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  let body: Buffer | string | undefined = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] ??= 'application/json';
  }
  if (options.origin !== null && method !== 'GET' && method !== 'HEAD') headers.origin ??= options.origin ?? `http://127.0.0.1:${port}`;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const data = Buffer.concat(chunks);
        const text = data.toString('utf8');
        answeredBodies.push(text);
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A multipart/form-data body with one file field. */
export function multipart(field: string, fileName: string, content: Buffer): { body: Buffer; headers: Record<string, string> } {
  const boundary = `----tweetsmith${Math.random().toString(16).slice(2)}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${fileName}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { body: Buffer.concat([head, content, tail]), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

export async function upload(port: number, fileName: string, content: Buffer, field = 'file'): Promise<Answer> {
  const form = multipart(field, fileName, content);
  return call(port, 'POST', '/api/uploads', { body: form.body, headers: form.headers });
}

export interface SseEvent {
  event: string;
  data: any;
}

export interface EventStreamClient {
  readonly events: SseEvent[];
  /** resolves with the first event (already received or to come) that satisfies `match` */
  until(match: (e: SseEvent) => boolean): Promise<SseEvent>;
  /** resolves when the server ends the stream */
  readonly ended: Promise<void>;
  close(): void;
}

/** Opens an SSE stream (GET, or POST with a JSON body) and collects its events. */
export function eventStream(port: number, path: string, post?: unknown): Promise<EventStreamClient> {
  return new Promise((resolve, reject) => {
    const events: SseEvent[] = [];
    const waiters: { match: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void }[] = [];
    let markEnded!: () => void;
    const ended = new Promise<void>((r) => (markEnded = r));
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    const body = post === undefined ? undefined : JSON.stringify(post);
    if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json', origin: `http://127.0.0.1:${port}` });
    const req = httpRequest({ host: '127.0.0.1', port, method: body === undefined ? 'GET' : 'POST', path, headers }, (res) => {
      if (res.statusCode !== 200 || !String(res.headers['content-type']).startsWith('text/event-stream')) {
        reject(new Error(`${path}: ${res.statusCode} ${res.headers['content-type']}`));
        res.resume();
        return;
      }
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        answeredBodies.push(chunk);
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length === 0) continue; // a keep-alive comment
          const e = { event, data: JSON.parse(data.join('\n')) };
          events.push(e);
          for (const w of [...waiters]) {
            if (w.match(e)) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve(e);
            }
          }
        }
      });
      res.on('end', markEnded);
      res.on('close', markEnded);
      resolve({
        events,
        ended,
        until: (match) => {
          const seen = events.find(match);
          return seen ? Promise.resolve(seen) : new Promise((r) => waiters.push({ match, resolve: r }));
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? markEnded() : reject(err)));
    req.end(body);
  });
}

/** A folder zipped in memory (yazl), its files at the zip's root as an X archive has them. */
export function zipFolder(dir: string): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else zip.addFile(path, relative(dir, path).split(sep).join('/'));
    }
  };
  walk(dir);
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

/** Every regular file under `dir`, relative, `/`-separated, sorted. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(relative(dir, path).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

export interface ServeProcess {
  child: ChildProcess;
  /** the page's URL, the first line `tweetsmith serve` prints */
  url: string;
  port: number;
  /** everything the server wrote to stderr so far */
  stderr(): string;
  /** the exit code, once it has exited */
  exited: Promise<number | null>;
}

/** Starts `tweetsmith serve ARGS` (bin/tweetsmith.js: dist/ when built) and waits for its URL; killed at teardown. */
export async function startServeProcess(args: string[], teardown: (fn: () => void) => void): Promise<ServeProcess> {
  const bin = join(import.meta.dirname, '..', '..', 'bin', 'tweetsmith.js');
  const child = spawn(process.execPath, [bin, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  teardown(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  return { child, url, port: Number(new URL(url).port), stderr: () => stderr, exited };
}
