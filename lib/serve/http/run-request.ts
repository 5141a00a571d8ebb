// POST /api/runs' body → the RunRequest the run manager takes. Every source
// becomes an upload's absolute path, a network source string, or a path that
// resolves inside the work dir; the base a hub id, 'tiny', or a model folder in
// the work dir; the options the allow-list, each checked for its type (the run
// manager's checkRunOptions) and its range (the same parsers, with the same
// bounds, as `tweetsmith train`'s flags, and loraSettings as train() checks
// LoRA). Anything else is ServeError(400) naming the field.
import { existsSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { batchCount, deviceName, fraction, oneOf, positiveNumber, tokenLength, wholeNumber } from '../../cli/option-parsers.js';
import { PRECISIONS } from '../../engine/gpt2.js';
import { isRepoId } from '../../hub/repo-id.js';
import { MAX_SEQUENCES } from '../../limits.js';
import { loraSettings } from '../../model/lora-adapter.js';
import { parseSourceString } from '../../sources/source-string.js';
import { SCHEDULES } from '../../train/schedule.js';
import { checkRunOptions, isRunId, type RunManager, type RunOptions, type RunRequest } from '../runs/run-manager.js';
import { TINY_BASE } from '../runs/tiny-base.js';
import { ServeError } from '../serve-error.js';
import { isUploadId, uploadPath } from './uploads.js';

type Parser = (value: string) => unknown;

/** Each allowed option's range check: the parser of the `tweetsmith train` flag of that name. */
const OPTION_RANGES: Readonly<Record<Exclude<keyof RunOptions, 'lora'>, Parser>> = Object.freeze({
  epochs: wholeNumber(1),
  lr: positiveNumber,
  schedule: oneOf(SCHEDULES),
  warmup: fraction,
  batchSize: batchCount,
  gradAccum: batchCount,
  blockSize: tokenLength(2),
  maxSteps: wholeNumber(1),
  seed: wholeNumber(0),
  precision: oneOf(PRECISIONS),
  device: deviceName,
  validSplit: fraction,
  samples: wholeNumber(0, MAX_SEQUENCES),
});

/** The options, allow-listed and checked: ServeError(400) naming the first bad one. */
export function checkOptions(options: unknown): RunOptions {
  const checked = checkRunOptions(options);
  for (const [name, value] of Object.entries(checked) as [keyof RunOptions, unknown][]) {
    if (name === 'lora') {
      try {
        loraSettings(value as RunOptions['lora']);
      } catch (err) {
        throw new ServeError(400, `options.lora: ${(err as Error).message}`);
      }
      continue;
    }
    try {
      OPTION_RANGES[name](String(value));
    } catch (err) {
      if (err instanceof InvalidArgumentError) throw new ServeError(400, `options.${name}: ${err.message}`);
      throw err;
    }
  }
  return checked;
}

const NETWORK_KINDS = new Set(['x-api', 'bluesky', 'mastodon']);

/** `path` (absolute or relative to the work dir) as a real path inside it, or undefined. */
function insideWorkDir(workDir: string, path: string): string | undefined {
  const full = resolve(workDir, path);
  if (!existsSync(full)) return undefined;
  const real = realpathSync(full);
  const inside = relative(workDir, real);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? real : undefined;
}

function shown(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

/** One source: an upload id, a network source string, or a file or folder inside the work dir. */
export function resolveSource(workDir: string, source: unknown, index: number): { source: string; label: string } {
  if (typeof source !== 'string' || source.trim() === '') throw new ServeError(400, `sources[${index}] must be an upload id or a source string`);
  if (isUploadId(source)) {
    const { path, name } = uploadPath(workDir, source);
    return { source: path, label: name };
  }
  if (/^[@]|^(x|bsky|mastodon):/i.test(source)) {
    let kind: string;
    try {
      kind = parseSourceString(source).kind;
    } catch (err) {
      throw new ServeError(400, `sources[${index}]: ${(err as Error).message}`);
    }
    if (NETWORK_KINDS.has(kind)) return { source, label: source };
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) {
    const real = insideWorkDir(workDir, source);
    if (real) return { source: real, label: relative(workDir, real).split(sep).join('/') };
  }
  throw new ServeError(
    400,
    `sources[${index}] ${shown(source)} is not an upload id, @handle, bsky:… or mastodon:… source, nor a file inside the server's work dir: upload the file instead`,
  );
}

/** The base: 'tiny', a run's model (by run id), a model folder inside the work dir, or a hub id. */
export function resolveBase(workDir: string, runs: RunManager, base: unknown): { base: string; label: string } {
  if (base === undefined || base === null || base === '') throw new ServeError(400, "base is missing: a hub id (gpt2), a finished run's id, a model folder in the work dir, or 'tiny'");
  if (typeof base !== 'string') throw new ServeError(400, 'base must be a string');
  if (base === TINY_BASE) return { base, label: base };
  if (isRunId(base)) {
    const dir = runs.modelDir(base); // ServeError(404) for an unknown run
    if (!dir) throw new ServeError(409, `run ${base} has no model yet: use a finished run as the base`);
    return { base: dir, label: `run ${base}` };
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(base)) {
    const real = insideWorkDir(workDir, base);
    if (real && statSync(real).isDirectory()) return { base: real, label: relative(workDir, real).split(sep).join('/') };
  }
  if (!isAbsolute(base) && isRepoId(base)) return { base, label: base };
  throw new ServeError(400, `base ${shown(base)} is not a hub id (like gpt2), a run's id, a model folder inside the server's work dir, or 'tiny'`);
}

/** The whole body of POST /api/runs, checked and resolved. */
export function runRequest(workDir: string, runs: RunManager, body: unknown): RunRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ServeError(400, 'send a JSON object { sources, base, options }');
  const { sources, base, options, ...rest } = body as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new ServeError(400, `${extra[0]!.slice(0, 40)} is not a field of a run; send { sources, base, options }`);
  if (!Array.isArray(sources) || sources.length < 1 || sources.length > 3) throw new ServeError(400, 'sources must be a list of 1 to 3 sources (one per person)');
  const resolvedSources = sources.map((s, i) => resolveSource(workDir, s, i));
  const resolvedBase = resolveBase(workDir, runs, base);
  return {
    sources: resolvedSources.map((s) => s.source),
    base: resolvedBase.base,
    options: checkOptions(options),
    labels: { sources: resolvedSources.map((s) => s.label), base: resolvedBase.label },
  };
}
