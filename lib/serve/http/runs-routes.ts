// The runs: create (queued behind the one training), list, state, live events,
// stop and resume. The run manager owns the runs; these routes check what the
// browser sent, hand it over, and answer with the state.
import type { FastifyInstance } from 'fastify';
import { checkRunId } from '../runs/run-id.js';
import type { RunEvent, RunManager } from '../runs/run-manager.js';
import { openEventStream } from './sse.js';
import { runRequest } from './run-request.js';

interface RunParams {
  id: string;
}

export function registerRuns(app: FastifyInstance, runs: RunManager): void {
  app.post('/api/runs', async (request) => {
    const run = await runs.create(runRequest(runs.workDir, runs, request.body));
    return { id: run.id, run };
  });

  app.get('/api/runs', async () => ({ runs: runs.list() }));

  app.get<{ Params: RunParams }>('/api/runs/:id', async (request) => runs.get(checkRunId(request.params.id)));

  app.post<{ Params: RunParams }>('/api/runs/:id/stop', async (request) => runs.stop(checkRunId(request.params.id)));

  app.post<{ Params: RunParams }>('/api/runs/:id/resume', async (request) => runs.resume(checkRunId(request.params.id)));

  // Server-sent events: every train() event so far ('train', from events.jsonl),
  // then the run's whole state ('status'), then each new event as it comes. The
  // replay and the state are taken in one synchronous stretch, so nothing is
  // missed or repeated between them. A page that reloads, or a second tab, gets
  // the same picture as the first.
  app.get<{ Params: RunParams }>('/api/runs/:id/events', async (request, reply) => {
    const id = checkRunId(request.params.id);
    runs.get(id); // 404 before the stream opens
    const stream = openEventStream(reply);
    const send = (event: RunEvent) => stream.send(event.type, event);
    const unsubscribe = runs.subscribe(id, send, { replay: true });
    send({ type: 'status', run: runs.get(id) });
    await stream.closed;
    unsubscribe();
  });
}
