// The page: its built assets (web/ compiled into dist/serve/public/ at
// `prepare`, shipped in the package) served by @fastify/static, index.html at
// `/`. A source checkout that has not been built gets a short page that says
// how to build it, instead of a crash.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { packageRoot } from '../../paths.js';

/** Where the page's built assets are. */
export const PUBLIC_DIR = join(packageRoot, 'dist', 'serve', 'public');

/** The page's policy: its own scripts, styles and images only; nothing inline, nothing from elsewhere. */
export const PAGE_CSP = "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tweetsmith serve</title></head>
<body><h1>tweetsmith serve</h1>
<p>The page has not been built in this copy of tweetsmith. Run <code>npm run build:ts</code> in its folder, then reload.</p>
<p>The HTTP API works without it: <a href="/api/health">/api/health</a>.</p></body></html>
`;

export async function registerPage(app: FastifyInstance, publicDir = PUBLIC_DIR): Promise<void> {
  const securityHeaders = (set: (name: string, value: string) => unknown) => {
    set('Content-Security-Policy', PAGE_CSP);
    set('X-Content-Type-Options', 'nosniff');
    set('Referrer-Policy', 'no-referrer');
  };
  if (!existsSync(join(publicDir, 'index.html'))) {
    app.get('/', async (_request, reply) => {
      securityHeaders((name, value) => reply.header(name, value));
      return reply.type('text/html; charset=utf-8').send(NOT_BUILT);
    });
    return;
  }
  await app.register(fastifyStatic, {
    root: publicDir,
    index: ['index.html'],
    // dotfiles, links out of the folder and `..` are refused by @fastify/static itself
    dotfiles: 'deny',
    setHeaders: (res) => securityHeaders((name, value) => res.header(name, value)),
  });
}
