// GET /api/runs/:id/download?format=zip|tar.gz: the run's model folder as one
// archive, streamed as it is written (npm's `tar` for .tar.gz, `yazl` for
// .zip). Regular files only: a link inside the folder is left out, never
// followed. The archive holds one folder named after the run.
import { lstatSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { create as createTar } from 'tar';
import yazl from 'yazl';
import { checkRunId } from '../runs/run-id.js';
import type { RunManager } from '../runs/run-manager.js';
import { ServeError } from '../serve-error.js';

export const ARCHIVE_FORMATS = ['zip', 'tar.gz'] as const;
export type ArchiveFormat = (typeof ARCHIVE_FORMATS)[number];

/** Every regular file under `dir`, as paths relative to it with `/` between parts, sorted. */
function regularFiles(dir: string, under = dir): string[] {
  const out: string[] = [];
  for (const name of readdirSync(under).sort()) {
    const path = join(under, name);
    const stat = lstatSync(path);
    if (stat.isDirectory()) out.push(...regularFiles(dir, path));
    else if (stat.isFile()) out.push(relative(dir, path).split(sep).join('/'));
  }
  return out;
}

function zipStream(dir: string, root: string, files: string[]): Readable {
  const zip = new yazl.ZipFile();
  // weights are floats that deflate barely shrinks: stored as they are, they cost no CPU time
  for (const file of files) zip.addFile(join(dir, ...file.split('/')), `${root}/${file}`, { compress: !file.endsWith('.safetensors') });
  zip.end();
  // yazl's stream is an old-style readable: piped through a PassThrough, fastify sees a modern one
  return zip.outputStream.pipe(new PassThrough());
}

function tarStream(dir: string, root: string, files: string[]): Readable {
  return createTar({ gzip: true, cwd: dir, portable: true, prefix: root, noDirRecurse: true }, files) as unknown as Readable;
}

export function registerDownload(app: FastifyInstance, runs: RunManager): void {
  app.get<{ Params: { id: string }; Querystring: { format?: string } }>('/api/runs/:id/download', async (request, reply) => {
    const id = checkRunId(request.params.id);
    const format = request.query.format ?? 'zip';
    if (!(ARCHIVE_FORMATS as readonly string[]).includes(format)) throw new ServeError(400, `format must be ${ARCHIVE_FORMATS.join(' or ')}, got "${String(format).slice(0, 20)}"`);
    const dir = runs.modelDir(id);
    if (!dir) throw new ServeError(404, `run ${id} has no model to download yet`);
    const root = `tweetsmith-${id}`;
    const files = regularFiles(dir);
    const stream = format === 'zip' ? zipStream(dir, root, files) : tarStream(dir, root, files);
    return reply
      .type(format === 'zip' ? 'application/zip' : 'application/gzip')
      // the name is the run id (digits, dashes, hex), checked above: nothing to escape
      .header('Content-Disposition', `attachment; filename="${root}.${format}"`)
      .header('X-Content-Type-Options', 'nosniff')
      .send(stream);
  });
}
