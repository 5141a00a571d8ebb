// A throwaway HTTP server on 127.0.0.1 for tests: the network sources are
// never pointed anywhere else.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path and query, as received. */
  url: string;
  headers: http.IncomingHttpHeaders;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** Serialised as JSON unless a string. */
  body?: unknown;
}

export interface LocalServer {
  /** http://127.0.0.1:PORT, no trailing slash. */
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Starts a server whose every answer comes from `route` (URL parsed against the server's own origin). */
export async function startLocalServer(route: (url: URL, request: RecordedRequest) => Reply | Promise<Reply>): Promise<LocalServer> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const recorded = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers };
    requests.push(recorded);
    Promise.resolve()
      .then(() => route(new URL(recorded.url, 'http://127.0.0.1'), recorded))
      .then(
        (reply) => {
          const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
          res.writeHead(reply.status ?? 200, { 'content-type': 'application/json; charset=utf-8', ...reply.headers });
          res.end(body);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(err));
        },
      );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
