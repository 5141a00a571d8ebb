// Uploads: one file per request, streamed to WORKDIR/uploads/<id>/<name> as it
// arrives (never held in memory), under a size cap. Past the cap the request
// is answered 413 and the partial file removed. The id is 16 random hex digits
// and the name a sanitized basename of the browser's, so nothing a client
// sends becomes a path of its choosing.
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance } from 'fastify';
import { ServeError } from '../serve-error.js';

export const UPLOADS_DIR = 'uploads';
export const UPLOAD_ID_PATTERN = /^[0-9a-f]{16}$/;

/** What tweetsmith reads (lib/sources/source-string.ts): an X archive zip, JSON Lines, CSV, text. */
const UPLOAD_KINDS = ['.zip', '.jsonl', '.csv', '.txt'];

export interface Upload {
  id: string;
  name: string;
  bytes: number;
}

/**
 * The browser's file name as a safe basename: the part after the last slash
 * or backslash, characters other than letters, digits, `.`, `-`, `_` and
 * spaces replaced, no leading dot, at most 100 characters (the extension kept).
 */
export function sanitizeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  let safe = base.normalize('NFC').replace(/[^\p{L}\p{N}._ -]/gu, '_').replace(/^[.\s]+/, '').trim();
  if (safe.length > 100) {
    const dot = safe.lastIndexOf('.');
    const ext = dot > 0 && safe.length - dot <= 10 ? safe.slice(dot) : '';
    safe = safe.slice(0, 100 - ext.length) + ext;
  }
  return safe || 'upload';
}

export function isUploadId(id: unknown): id is string {
  return typeof id === 'string' && UPLOAD_ID_PATTERN.test(id);
}

/** The uploaded file's absolute path, or ServeError(400) when the id names no upload. */
export function uploadPath(workDir: string, id: string): { path: string; name: string } {
  if (!isUploadId(id)) throw new ServeError(400, `"${String(id).slice(0, 40)}" is not an upload id`);
  const dir = join(workDir, UPLOADS_DIR, id);
  const files = existsSync(dir) ? readdirSync(dir).filter((name) => statSync(join(dir, name)).isFile()) : [];
  if (files.length !== 1) throw new ServeError(400, `no upload ${id}: upload the file again`);
  return { path: join(dir, files[0]!), name: files[0]! };
}

export function registerUploads(app: FastifyInstance, workDir: string, maxUploadBytes: number): void {
  const tooLarge = () =>
    new ServeError(413, `the upload is larger than the server's cap of ${formatBytes(maxUploadBytes)}: trim the archive, or start the server with a larger --max-upload`);

  app.post('/api/uploads', async (request, reply) => {
    if (!request.isMultipart()) throw new ServeError(400, 'send the file as multipart/form-data, in one field named "file"');
    // a body announced larger than the cap (and the form's few hundred bytes of headers) is refused before it is read
    const announced = Number(request.headers['content-length']);
    if (Number.isFinite(announced) && announced > maxUploadBytes + 64 * 1024) throw tooLarge();

    const part = await request.file({ limits: { fileSize: maxUploadBytes, files: 1, fields: 0, parts: 1 } });
    if (!part) throw new ServeError(400, 'the form has no file: send it in a field named "file"');
    if (part.fieldname !== 'file') {
      part.file.resume();
      throw new ServeError(400, `send the file in a field named "file", not "${part.fieldname.slice(0, 40)}"`);
    }
    const name = sanitizeFileName(part.filename);
    if (!UPLOAD_KINDS.some((ext) => name.toLowerCase().endsWith(ext))) {
      part.file.resume();
      throw new ServeError(400, `${name}: tweetsmith reads an X archive (.zip), JSON Lines (.jsonl), CSV (.csv) or text (.txt, one post a line)`);
    }

    const id = randomBytes(8).toString('hex');
    const dir = join(workDir, UPLOADS_DIR, id);
    await mkdir(dir, { recursive: true });
    const path = join(dir, name);
    try {
      await pipeline(part.file, createWriteStream(path, { flags: 'wx' }));
      if (part.file.truncated) throw tooLarge();
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge();
      throw err;
    }
    const answer: Upload = { id, name, bytes: statSync(path).size };
    return answer;
  });
}

export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}

/** "512MB", "2GB", "1.5 GB", "1048576": a byte count for --max-upload. */
export function parseByteSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|bytes?|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)?\s*$/i.exec(text);
  if (!match) throw new Error(`expected a size such as 512MB or 2GB, got "${text}"`);
  const power = { b: 0, k: 1, m: 2, g: 3, t: 4 }[(match[2] ?? 'b')[0]!.toLowerCase() as 'b' | 'k' | 'm' | 'g' | 't'];
  const bytes = Math.floor(Number(match[1]) * 1024 ** power);
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new Error(`expected a size from 1 byte, got "${text}"`);
  return bytes;
}
