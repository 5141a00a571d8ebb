// The training settings a browser may choose: train()'s own names, and nothing
// that says where to read or write (`out`, `resume`, `base`, `force`, `threads`
// belong to the server). The HTTP layer checks requests with it; the run
// manager checks again, since a run's options travel to a child process that
// trains with them. Values are checked for their type here; whether a number is
// in range is train()'s to say, in the run's error.
import type { TrainOptions } from '../../train/train.js';
import { ServeError } from '../serve-error.js';

export type RunOptions = Pick<
  TrainOptions,
  'epochs' | 'lr' | 'schedule' | 'warmup' | 'batchSize' | 'gradAccum' | 'blockSize' | 'maxSteps' | 'seed' | 'precision' | 'device' | 'validSplit' | 'samples' | 'lora'
>;

type Kind = 'number' | 'string' | 'lora';

/** Every allowed option and the JSON type it takes. */
const OPTION_KINDS: Readonly<Record<keyof RunOptions, Kind>> = Object.freeze({
  epochs: 'number',
  lr: 'number',
  schedule: 'string',
  warmup: 'number',
  batchSize: 'number',
  gradAccum: 'number',
  blockSize: 'number',
  maxSteps: 'number',
  seed: 'number',
  precision: 'string',
  device: 'string',
  validSplit: 'number',
  samples: 'number',
  lora: 'lora',
});

export const ALLOWED_RUN_OPTIONS: readonly (keyof RunOptions)[] = Object.freeze(Object.keys(OPTION_KINDS) as (keyof RunOptions)[]);

const LORA_KINDS: Readonly<Record<string, 'number' | 'string' | 'strings'>> = Object.freeze({
  rank: 'number',
  alpha: 'number',
  dropout: 'number',
  targets: 'strings',
  baseType: 'string',
});

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The options as RunOptions, or ServeError(400) naming the first option that is not allowed or not of its type. */
export function checkRunOptions(options: unknown): RunOptions {
  if (options === undefined || options === null) return {};
  if (!isObject(options)) throw new ServeError(400, 'options must be a JSON object of training settings');
  const checked: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined || value === null) continue; // a field the page left empty: the default
    const kind = Object.hasOwn(OPTION_KINDS, name) ? OPTION_KINDS[name as keyof RunOptions] : undefined;
    if (!kind) {
      throw new ServeError(400, `options.${name.slice(0, 40)} is not a training setting the server takes; allowed: ${ALLOWED_RUN_OPTIONS.join(', ')}`);
    }
    if (kind === 'number' && !isNumber(value)) throw new ServeError(400, `options.${name} must be a number`);
    if (kind === 'string' && typeof value !== 'string') throw new ServeError(400, `options.${name} must be a string`);
    if (kind === 'lora') checked[name] = checkLora(value);
    else checked[name] = value;
  }
  return checked as RunOptions;
}

function checkLora(value: unknown): NonNullable<RunOptions['lora']> {
  if (value === true) return {};
  if (!isObject(value)) throw new ServeError(400, 'options.lora must be an object ({} for the defaults) with rank, alpha, dropout, targets, baseType');
  const lora: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(value)) {
    if (v === undefined || v === null) continue;
    const kind = Object.hasOwn(LORA_KINDS, name) ? LORA_KINDS[name] : undefined;
    if (!kind) throw new ServeError(400, `options.lora.${name.slice(0, 40)} is not a LoRA setting; allowed: ${Object.keys(LORA_KINDS).join(', ')}`);
    if (kind === 'number' && !isNumber(v)) throw new ServeError(400, `options.lora.${name} must be a number`);
    if (kind === 'string' && typeof v !== 'string') throw new ServeError(400, `options.lora.${name} must be a string`);
    if (kind === 'strings' && !(Array.isArray(v) && v.every((t) => typeof t === 'string'))) {
      throw new ServeError(400, `options.lora.${name} must be a list of module names`);
    }
    lora[name] = v;
  }
  return lora;
}
