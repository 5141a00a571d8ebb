// POST /api/generate: posts from a run's model, as `tweetsmith generate` makes
// them (samplePosts over GPT2.generate). JSON answers `{ samples }` once all are
// written; a request that accepts text/event-stream gets each sequence's text
// as it grows ('token'), each finished post ('sample'), then 'done' with all.
// Generation runs in the server's process while a run trains in its child: both
// use their threads, and the OS shares the cores between them.
import type { FastifyInstance } from 'fastify';
import { InvalidArgumentError } from 'commander';
import { nonNegativeNumber, sequenceCount, tokenLength, wholeNumber } from '../../cli/option-parsers.js';
import { SAMPLING_DEFAULTS, SERVE_DEFAULTS } from '../../defaults.js';
import { finishSample, samplePosts } from '../../generate/samples.js';
import { checkRunId } from '../runs/run-id.js';
import type { RunManager } from '../runs/run-manager.js';
import { ServeError } from '../serve-error.js';
import type { ModelCache } from './model-cache.js';
import { acceptsEventStream, openEventStream } from './sse.js';

export interface GenerateRequest {
  run: string;
  prompt: string;
  n: number;
  temperature: number;
  topP: number;
  maxLength: number;
  seed?: number;
}

const FIELDS = ['run', 'prompt', 'n', 'temperature', 'topP', 'maxLength', 'seed'];

/** A number field checked with the CLI flag's parser, plus the server's own bound. */
function numberField(body: Record<string, unknown>, name: string, parse: (v: string) => number, fallback: number | undefined, max?: number): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ServeError(400, `${name} must be a number`);
  let parsed: number;
  try {
    parsed = parse(String(value));
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw new ServeError(400, `${name}: ${err.message}`);
    throw err;
  }
  if (max !== undefined && parsed > max) throw new ServeError(400, `${name} may be at most ${max} here, got ${value}`);
  return parsed;
}

export function generateRequest(body: unknown): GenerateRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ServeError(400, 'send a JSON object { run, prompt, n, temperature, topP, maxLength, seed }');
  const b = body as Record<string, unknown>;
  const extra = Object.keys(b).find((k) => !FIELDS.includes(k));
  if (extra !== undefined) throw new ServeError(400, `${extra.slice(0, 40)} is not a generation setting; send ${FIELDS.join(', ')}`);
  const prompt = b.prompt ?? SAMPLING_DEFAULTS.prompt;
  if (typeof prompt !== 'string') throw new ServeError(400, 'prompt must be a string');
  if (prompt.length > SERVE_DEFAULTS.maxPromptCharacters) throw new ServeError(400, `prompt may be at most ${SERVE_DEFAULTS.maxPromptCharacters} characters`);
  const topP = numberField(b, 'topP', Number, SAMPLING_DEFAULTS.topP)!;
  if (!(topP > 0 && topP <= 1)) throw new ServeError(400, `topP must be more than 0 and at most 1, got ${topP}`);
  return {
    run: checkRunId(b.run),
    prompt,
    n: numberField(b, 'n', sequenceCount, 1, SERVE_DEFAULTS.maxGenerateSamples)!,
    temperature: numberField(b, 'temperature', nonNegativeNumber, SAMPLING_DEFAULTS.temperature, SERVE_DEFAULTS.maxTemperature)!,
    topP,
    maxLength: numberField(b, 'maxLength', tokenLength(2), SAMPLING_DEFAULTS.maxLength)!,
    seed: numberField(b, 'seed', wholeNumber(0), undefined),
  };
}

export function registerGenerate(app: FastifyInstance, runs: RunManager, models: ModelCache, log: (line: string) => void): void {
  app.post('/api/generate', async (request, reply) => {
    const g = generateRequest(request.body);
    const dir = runs.modelDir(g.run); // 404 for an unknown run
    if (!dir) throw new ServeError(409, `run ${g.run} has no model yet: generate from a finished run`);
    const streaming = acceptsEventStream(request.headers.accept);
    const aborter = new AbortController();
    reply.raw.on('close', () => aborter.abort()); // the client left: stop sampling between steps

    return models.use(dir, async ({ model, tokenizer }) => {
      // a length past the model's context is cut to it, as the CLI does
      const maxLength = Math.min(g.maxLength, model.config.nPositions);
      const promptTokens = 1 + tokenizer.encode(g.prompt).length; // samplePosts starts it with <|endoftext|>
      if (promptTokens >= maxLength) {
        throw new ServeError(400, `the prompt is ${promptTokens} tokens long, which leaves no room within maxLength ${maxLength}: shorten it or raise maxLength`);
      }
      const options = {
        n: g.n,
        maxLength,
        temperature: g.temperature,
        topP: g.topP,
        seed: g.seed,
        signal: aborter.signal,
      };
      if (!streaming) return { prompt: g.prompt, samples: await samplePosts(model, tokenizer, g.prompt, options) };

      const stream = openEventStream(reply);
      const shown = new Array<string>(g.n).fill(finishSample(g.prompt, false)); // what the prompt shows as
      try {
        const samples = await samplePosts(model, tokenizer, g.prompt, {
          ...options,
          onText: (sequence, text) => {
            // text is the whole decoded text so far: a token that completes a multi-byte
            // character can change the end of what was shown, so send both
            const delta = text.startsWith(shown[sequence]!) ? text.slice(shown[sequence]!.length) : undefined;
            shown[sequence] = text;
            stream.send('token', { sequence, text, delta });
          },
          onFinished: (sequence, text) => stream.send('sample', { sequence, text }),
        });
        stream.send('done', { prompt: g.prompt, samples });
      } catch (err) {
        if (!aborter.signal.aborted) {
          log(`POST /api/generate: ${(err as Error).stack ?? String(err)}`);
          stream.send('error', { error: 'generation failed; the server log says why' });
        }
      } finally {
        stream.end();
      }
      return reply;
    });
  });
}
