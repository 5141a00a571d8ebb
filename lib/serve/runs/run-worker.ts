// The training child of the run manager (one per run session): it receives the
// run over IPC, calls the library's train() and sends every event back, then
// its result or its error's message, and exits. A 'stop' message or the parent
// going away (the server killed: the IPC channel closes) ends the run after the
// current step with a checkpoint. Its stdout and stderr are the run's
// worker.log: stacks go there, never to the browser, and no token does.
import { train, type TrainingRun } from '../../train/train.js';
import { RunFiles } from './run-store.js';
import { TINY_BASE, TINY_TRAIN_DEFAULTS, writeTinyBase } from './tiny-base.js';
import type { FromWorker, ToWorker } from './worker-messages.js';

/** Variables that may hold a token; their values are cut out of anything this process logs or reports. */
const TOKEN_VARIABLES = ['X_BEARER_TOKEN', 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN'];
const secrets = TOKEN_VARIABLES.map((name) => process.env[name]).filter((v): v is string => !!v && v.length >= 4);

function redact(text: string): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('[token]');
  return out;
}

const log = (line: string) => process.stderr.write(redact(`${new Date().toISOString()} ${line}`) + '\n');

/** Sends a message if the parent still listens; resolves once it is handed to the channel. */
function send(message: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || !process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

/** A message short enough for the page, without stack or token. */
function shortMessage(err: unknown): string {
  const message = redact(err instanceof Error ? err.message : String(err));
  return message.length > 1500 ? `${message.slice(0, 1500)}…` : message;
}

let run: TrainingRun | undefined;
let stopRequested = false;

function stop(why: string): void {
  if (stopRequested) return;
  stopRequested = true;
  log(`stopping after the current step (${why})`);
  run?.stop();
}

async function trainRun(job: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  const { request } = job;
  log(`${job.resume ? 'resuming' : 'starting'} run in ${job.runDir}: ${request.labels.sources.join(', ')} on ${request.labels.base}, ${job.threads} threads`);
  const tiny = request.base === TINY_BASE;
  const files = new RunFiles(job.runDir);
  const base = tiny ? files.tinyBase : request.base;
  if (tiny) await writeTinyBase(base, job.threads);
  run = train({
    ...(tiny ? TINY_TRAIN_DEFAULTS : { baseLabel: request.labels.base }),
    ...request.options,
    sources: request.sources,
    base,
    out: files.model,
    resume: job.resume,
    threads: job.threads,
    checkpointEvery: job.checkpointEvery,
  });
  if (stopRequested) run.stop();
  for await (const event of run) await send({ type: 'event', event });
  const result = await run.result;
  log(result.interrupted ? `stopped with a checkpoint at step ${result.summary.metrics.at(-1)?.step ?? 0}` : 'finished');
  await send({ type: 'result', interrupted: result.interrupted });
}

async function fail(err: unknown): Promise<never> {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  await send({ type: 'error', message: shortMessage(err) });
  process.exit(1);
}

process.on('disconnect', () => stop('the server went away'));
process.on('uncaughtException', (err) => void fail(err));
process.on('unhandledRejection', (err) => void fail(err));
process.on('message', (message: ToWorker) => {
  if (message.type === 'stop') stop('asked by the server');
  else if (message.type === 'start' && !run) {
    trainRun(message).then(
      () => process.exit(0),
      (err) => fail(err),
    );
  }
});
