// GET /api/runs/:id/files/:name: the run's model card and its report. An
// allow-list of two names, each mapped to its place in the model folder: a
// request's text is never joined to a path. report.html goes out with its own
// Content-Security-Policy as a header too (it loads nothing, runs no script).
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { REPORT_CSP } from '../../report/report-html.js';
import { RUN_RECORD_DIR, RUN_RECORD_FILES } from '../../report/run-record-files.js';
import { checkRunId } from '../runs/run-id.js';
import type { RunManager } from '../runs/run-manager.js';
import { ServeError } from '../serve-error.js';

/** The card's file name in a model folder (Hugging Face's). */
export const MODEL_CARD = 'README.md';

/** Name in the URL → where it lives in the model folder, and how it is served. */
export const RUN_FILES: Readonly<Record<string, { path: string[]; type: string; csp: string }>> = Object.freeze({
  [MODEL_CARD]: { path: [MODEL_CARD], type: 'text/plain; charset=utf-8', csp: "default-src 'none'" },
  [RUN_RECORD_FILES.report]: { path: [RUN_RECORD_DIR, RUN_RECORD_FILES.report], type: 'text/html; charset=utf-8', csp: REPORT_CSP },
});

interface FileParams {
  id: string;
  name: string;
}

export function registerFiles(app: FastifyInstance, runs: RunManager): void {
  app.get<{ Params: FileParams }>('/api/runs/:id/files/:name', async (request, reply) => {
    const id = checkRunId(request.params.id);
    const { name } = request.params;
    const file = Object.hasOwn(RUN_FILES, name) ? RUN_FILES[name] : undefined;
    if (!file) throw new ServeError(404, `a run has no file "${name.slice(0, 60)}" to show: ask for ${Object.keys(RUN_FILES).join(' or ')}`);
    const dir = runs.modelDir(id);
    const path = dir && join(dir, ...file.path);
    if (!path || !existsSync(path)) throw new ServeError(404, `run ${id} has no ${name} yet: it is written when the run finishes`);
    return reply
      .type(file.type)
      .header('Content-Security-Policy', file.csp)
      .header('X-Content-Type-Options', 'nosniff')
      .header('Cache-Control', 'no-cache')
      .send(createReadStream(path));
  });
}
