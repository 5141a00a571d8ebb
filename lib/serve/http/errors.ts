// Every error the server answers is JSON `{ error: message }` with a fitting
// status. A ServeError carries its status and a message written for the page's
// user; fastify's own client errors (a body that is not JSON, one too large)
// keep their 4xx status and message; anything else is a 500 whose detail is
// logged on the server and never sent (it may hold a path or a stack).
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ServeError } from '../serve-error.js';

/** The longest message sent to a browser: errors quote input, and input can be long. */
const MAX_MESSAGE = 500;

export interface ErrorAnswer {
  status: number;
  body: { error: string };
}

/** What the server answers for `err`, and whether the detail must be logged (a 500). */
export function errorAnswer(err: unknown): ErrorAnswer & { log: boolean } {
  if (err instanceof ServeError) return { status: err.statusCode, body: { error: clip(err.message) }, log: err.statusCode >= 500 };
  const status = (err as FastifyError | undefined)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, body: { error: clip((err as Error).message) }, log: false };
  }
  return { status: 500, body: { error: 'the server failed to answer this request; its log says why' }, log: true };
}

function clip(message: string): string {
  return message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message;
}

/** fastify's error handler: the answer above, and the detail of a 500 on stderr. */
export function handleError(log: (line: string) => void) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const answer = errorAnswer(err);
    if (answer.log) log(`${request.method} ${request.url.slice(0, 200)}: ${err.stack ?? err.message}`);
    if (reply.sent || reply.raw.headersSent) {
      // an SSE stream or a download already started: all that is left is to end it
      reply.raw.destroy();
      return;
    }
    return reply.code(answer.status).type('application/json; charset=utf-8').send(answer.body);
  };
}

/** 404 for a route that does not exist, in the same shape. */
export function handleNotFound(request: FastifyRequest, reply: FastifyReply) {
  return reply.code(404).send({ error: `no such route: ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}` });
}
