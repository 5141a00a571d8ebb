// Cross-origin requests. The server has no login: whoever can make the browser
// send a POST to it can start a run. So a request that changes anything (every
// method but GET and HEAD) must come from the page the server itself served:
// its Origin header must be the server's own origin, and a request without one
// must not be marked cross-site by the browser (Sec-Fetch-Site). No CORS
// headers are ever sent, so no other site can read an answer either.
//
// On a loopback address the Host header must also name a loopback host, for
// every request: a site whose DNS name is made to resolve to 127.0.0.1 (DNS
// rebinding) sends its own name as Host and as Origin, and would otherwise be
// "same origin" with this server.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ServeError } from '../serve-error.js';

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** The Host header's name part ("127.0.0.1:7860" → "127.0.0.1", "[::1]:80" → "[::1]"). */
function hostName(hostHeader: string): string {
  return hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : hostHeader.split(':')[0]!;
}

/**
 * The onRequest hook for a server bound to `boundHost`. `port()` is the port
 * it listens on (known only once it listens, with port 0).
 */
export function originCheck(boundHost: string, port: () => number) {
  const loopbackOnly = isLoopbackHost(boundHost);
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const host = request.headers.host ?? '';
    if (loopbackOnly && !(isLoopbackHost(hostName(host)) && host.endsWith(`:${port()}`))) {
      throw new ServeError(403, `this server answers only requests to http://127.0.0.1:${port()}/ (the request named host "${host.slice(0, 100)}")`);
    }
    if (request.method === 'GET' || request.method === 'HEAD') return;
    const own = loopbackOnly ? LOOPBACK_NAMES.map((name) => `http://${name}:${port()}`) : [`http://${host}`];
    const origin = request.headers.origin;
    if (origin !== undefined) {
      if (!own.includes(origin)) throw new ServeError(403, `a ${request.method} from another site (${origin.slice(0, 100)}) is refused: use the page this server serves`);
      return;
    }
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      throw new ServeError(403, `a ${request.method} from another site (Sec-Fetch-Site: ${String(site).slice(0, 40)}) is refused: use the page this server serves`);
    }
  };
}
