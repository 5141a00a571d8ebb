// Server-sent events: `event: NAME` and one line of JSON per event, a comment
// every 15 s so proxies and browsers keep an idle stream open. The stream is
// written on the raw response (fastify hands it over with reply.hijack()).
import type { FastifyReply } from 'fastify';

const KEEPALIVE_MS = 15_000;

export interface EventStream {
  send(event: string, data: unknown): void;
  end(): void;
  /** resolves when the client goes away or end() is called */
  readonly closed: Promise<void>;
  readonly isClosed: boolean;
}

export function openEventStream(reply: FastifyReply): EventStream {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    'X-Content-Type-Options': 'nosniff',
  });
  res.flushHeaders();
  let closed = false;
  let markClosed!: () => void;
  const closedPromise = new Promise<void>((resolve) => (markClosed = resolve));
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEPALIVE_MS);
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepAlive);
    markClosed();
  };
  res.on('close', close);
  return {
    send(event, data) {
      if (closed) return;
      // JSON.stringify escapes every line break inside strings, so one data line holds the event
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    end() {
      if (!closed) res.end();
      close();
    },
    get closed() {
      return closedPromise;
    },
    get isClosed() {
      return closed;
    },
  };
}

/** Whether the request asks for an event stream (Accept: text/event-stream). */
export function acceptsEventStream(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((part) => part.trim().split(';')[0]!.trim().toLowerCase() === 'text/event-stream');
}
