// `tweetsmith serve`'s server: the page and its HTTP API (README "HTTP API")
// over the run manager, on fastify. The runs train in child processes
// (runs/run-manager.ts); this process answers requests, streams events and
// generates from finished runs.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import Fastify from 'fastify';
import fastifyMultipart from '@fastify/multipart';
import { SERVE_DEFAULTS } from '../defaults.js';
import { RunManager } from './runs/run-manager.js';
import { registerDownload } from './http/download.js';
import { handleError, handleNotFound } from './http/errors.js';
import { registerFiles } from './http/files.js';
import { registerGenerate } from './http/generate.js';
import { registerInfo } from './http/info-routes.js';
import { ModelCache } from './http/model-cache.js';
import { originCheck } from './http/origin-check.js';
import { registerPage } from './http/page.js';
import { registerRuns } from './http/runs-routes.js';
import { registerUploads } from './http/uploads.js';

export interface ServeOptions {
  /** the work dir: uploads and runs (default SERVE_DEFAULTS.workDir, made if missing) */
  dir?: string;
  /** default SERVE_DEFAULTS.host (loopback) */
  host?: string;
  /** default SERVE_DEFAULTS.port; 0 takes a free one */
  port?: number;
  /** an upload's cap in bytes (default SERVE_DEFAULTS.maxUploadBytes) */
  maxUploadBytes?: number;
  /** CPU threads of the training child and of generation, each (default: every core) */
  threads?: number;
  /** a training run checkpoints every this many steps (default SERVE_DEFAULTS.checkpointEvery) */
  checkpointEvery?: number;
  /** the page's built assets (default dist/serve/public in the package) */
  publicDir?: string;
  /** where the detail of a server error goes (default: stderr) */
  log?: (line: string) => void;
}

export interface RunningServer {
  /** http://HOST:PORT/ */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** the work dir, absolute */
  readonly workDir: string;
  readonly runs: RunManager;
  /** the running run checkpoints and becomes 'interrupted'; models are disposed; connections end */
  close(): Promise<void>;
}

export function serverUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
}

export async function startServer(options: ServeOptions = {}): Promise<RunningServer> {
  const host = options.host ?? SERVE_DEFAULTS.host;
  const maxUploadBytes = options.maxUploadBytes ?? SERVE_DEFAULTS.maxUploadBytes;
  const log = options.log ?? ((line: string) => process.stderr.write(`tweetsmith serve: ${line}\n`));
  const dir = resolve(options.dir ?? SERVE_DEFAULTS.workDir);
  mkdirSync(dir, { recursive: true });

  const runs = await RunManager.open(dir, { threads: options.threads, checkpointEvery: options.checkpointEvery ?? SERVE_DEFAULTS.checkpointEvery });
  const models = new ModelCache(SERVE_DEFAULTS.modelCache, options.threads);
  // SSE streams never end by themselves: close() ends every connection
  const app = Fastify({ logger: false, forceCloseConnections: true, return503OnClosing: true });
  let port = options.port ?? SERVE_DEFAULTS.port;
  try {
    app.setErrorHandler(handleError(log));
    app.setNotFoundHandler(handleNotFound);
    app.addHook('onRequest', originCheck(host, () => port));
    await app.register(fastifyMultipart);
    registerInfo(app, maxUploadBytes);
    registerUploads(app, runs.workDir, maxUploadBytes);
    registerRuns(app, runs);
    registerGenerate(app, runs, models, log);
    registerFiles(app, runs);
    registerDownload(app, runs);
    await registerPage(app, options.publicDir);
    await app.listen({ host, port });
  } catch (err) {
    await app.close().catch(() => undefined);
    await runs.close();
    throw err;
  }
  const address = app.server.address();
  if (address && typeof address === 'object') port = address.port;

  let closing: Promise<void> | undefined;
  return {
    url: serverUrl(host, port),
    host,
    port,
    workDir: runs.workDir,
    runs,
    close: () =>
      (closing ??= (async () => {
        await runs.close();
        await models.close();
        await app.close();
      })()),
  };
}
