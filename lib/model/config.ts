// GPT-2's configuration: the published sizes, and the one place that reads and
// writes Hugging Face's config.json / generation_config.json.
import { totalmem } from 'node:os';
import { SAMPLING_DEFAULTS } from '../defaults.js';
import { MAX_TOKEN_ID, parameterCount, SHAPE_LIMITS } from '../limits.js';

/** The numbers of a GPT-2's shape that change the math (nPositions: the longest sequence, HF's n_positions / n_ctx). */
export interface GPT2Shape {
  nLayer: number;
  nHead: number;
  nEmbd: number;
  nPositions: number;
  vocabSize: number;
  layerNormEpsilon: number;
}

/** A GPT-2's shape and its special tokens. */
export interface GPT2Config extends GPT2Shape {
  bosTokenId: number;
  eosTokenId: number;
}

export const GPT2_VOCAB_SIZE = 50257;
export const END_OF_TEXT = 50256;

const base = { vocabSize: GPT2_VOCAB_SIZE, layerNormEpsilon: 1e-5, bosTokenId: END_OF_TEXT, eosTokenId: END_OF_TEXT };

/** The published GPT-2 shapes, plus `tiny` for tests and the offline demo. */
export const PRESETS = {
  tiny: { ...base, nLayer: 2, nHead: 2, nEmbd: 64, nPositions: 128 },
  gpt2: { ...base, nLayer: 12, nHead: 12, nEmbd: 768, nPositions: 1024 },
  'gpt2-medium': { ...base, nLayer: 24, nHead: 16, nEmbd: 1024, nPositions: 1024 },
  'gpt2-large': { ...base, nLayer: 36, nHead: 20, nEmbd: 1280, nPositions: 1024 },
  'gpt2-xl': { ...base, nLayer: 48, nHead: 25, nEmbd: 1600, nPositions: 1024 },
} satisfies Record<string, GPT2Config>;

export type PresetName = keyof typeof PRESETS;

export function presetConfig(name: string, overrides: Partial<GPT2Config> = {}): GPT2Config {
  if (!(name in PRESETS)) {
    throw new Error(`unknown model size "${name}"; choose one of ${Object.keys(PRESETS).join(', ')}`);
  }
  return validateConfig({ ...PRESETS[name as PresetName], ...overrides });
}

/**
 * Checks a shape before anything is allocated for it: every field a positive integer
 * within SHAPE_LIMITS (lib/limits.ts), n_embd a multiple of n_head, and weights that
 * fit in this machine's memory. Errors name the config.json field.
 */
export function validateConfig(c: GPT2Config): GPT2Config {
  const positiveInt = (v: unknown, name: string, max: number) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${describe(v)}`);
    if (v > max) throw new Error(`${name} is ${v}, more than the ${max} tweetsmith supports`);
  };
  positiveInt(c.nLayer, 'n_layer', SHAPE_LIMITS.nLayer);
  positiveInt(c.nHead, 'n_head', SHAPE_LIMITS.nHead);
  positiveInt(c.nEmbd, 'n_embd', SHAPE_LIMITS.nEmbd);
  positiveInt(c.nPositions, 'n_positions', SHAPE_LIMITS.nPositions);
  positiveInt(c.vocabSize, 'vocab_size', SHAPE_LIMITS.vocabSize);
  if (c.nEmbd % c.nHead !== 0) throw new Error(`n_embd (${c.nEmbd}) must be a multiple of n_head (${c.nHead})`);
  // the engine computes in float32: an epsilon that rounds to 0 there is no epsilon
  if (typeof c.layerNormEpsilon !== 'number' || !(Math.fround(c.layerNormEpsilon) > 0 && c.layerNormEpsilon < 1)) {
    throw new Error(`layer_norm_epsilon must be a number in (0, 1) that float32 holds (≥ 1e-45), got ${describe(c.layerNormEpsilon)}`);
  }
  for (const [value, name] of [[c.bosTokenId, 'bos_token_id'], [c.eosTokenId, 'eos_token_id']] as const) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_TOKEN_ID) {
      throw new Error(`${name} must be a token id (an integer from 0 to ${MAX_TOKEN_ID}), got ${describe(value)}`);
    }
  }
  // weights the machine cannot hold are an error now, not an allocation the system
  // grants lazily and kills the process for later
  const bytes = parameterCount(c) * 4;
  if (bytes > totalmem()) {
    throw new Error(
      `this shape (n_layer ${c.nLayer}, n_embd ${c.nEmbd}, n_positions ${c.nPositions}, vocab_size ${c.vocabSize}) has ` +
        `${parameterCount(c)} parameters: the weights alone need ${gib(bytes)}, more than this machine's ${gib(totalmem())} of memory`,
    );
  }
  return c;
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

/** What the engine is built from: the shape without the special tokens. */
export function toNativeConfig({ bosTokenId: _bos, eosTokenId: _eos, ...shape }: GPT2Config): GPT2Shape {
  return shape;
}

/** Reads a Hugging Face GPT-2 config.json object; `file` names it in errors. */
export function configFromHF(json: Record<string, unknown>, file: string): GPT2Config {
  const num = (key: string, fallback?: number): number => {
    const v = json[key];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw new Error(`${file}: "${key}" is missing`);
    }
    if (typeof v !== 'number') throw new Error(`${file}: "${key}" must be a number, got ${describe(v)}`);
    return v;
  };
  if (json.model_type !== undefined && json.model_type !== 'gpt2') {
    throw new Error(`${file}: model_type is ${describe(json.model_type)}; tweetsmith runs GPT-2 models only`);
  }
  const activation = json.activation_function ?? 'gelu_new';
  if (activation !== 'gelu_new') {
    throw new Error(`${file}: activation_function ${describe(activation)} is not supported (GPT-2 uses gelu_new)`);
  }
  const nEmbd = num('n_embd');
  if (json.n_inner !== undefined && json.n_inner !== null && json.n_inner !== 4 * nEmbd) {
    throw new Error(`${file}: n_inner ${describe(json.n_inner)} is not supported (only 4 × n_embd)`);
  }
  try {
    return validateConfig({
      nLayer: num('n_layer'),
      nHead: num('n_head'),
      nEmbd,
      nPositions: num('n_positions', num('n_ctx', 1024)),
      vocabSize: num('vocab_size'),
      layerNormEpsilon: num('layer_norm_epsilon', 1e-5),
      bosTokenId: num('bos_token_id', END_OF_TEXT),
      eosTokenId: num('eos_token_id', END_OF_TEXT),
    });
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}

/** The text-generation defaults the original tool wrote into config.json (pipeline.md §7). */
export const TEXT_GENERATION_DEFAULTS = {
  do_sample: true,
  min_length: SAMPLING_DEFAULTS.minLength,
  max_length: SAMPLING_DEFAULTS.maxLength,
  temperature: SAMPLING_DEFAULTS.temperature,
  top_p: SAMPLING_DEFAULTS.topP,
  prefix: '<|endoftext|>',
};

/** config.json as transformers writes it for GPT2LMHeadModel. */
export function configToHF(c: GPT2Config, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    activation_function: 'gelu_new',
    architectures: ['GPT2LMHeadModel'],
    attn_pdrop: 0.1,
    bos_token_id: c.bosTokenId,
    embd_pdrop: 0.1,
    eos_token_id: c.eosTokenId,
    initializer_range: 0.02,
    layer_norm_epsilon: c.layerNormEpsilon,
    model_type: 'gpt2',
    n_ctx: c.nPositions,
    n_embd: c.nEmbd,
    n_head: c.nHead,
    n_inner: null,
    n_layer: c.nLayer,
    n_positions: c.nPositions,
    reorder_and_upcast_attn: false,
    resid_pdrop: 0.1,
    scale_attn_by_inverse_layer_idx: false,
    scale_attn_weights: true,
    summary_activation: null,
    summary_first_dropout: 0.1,
    summary_proj_to_labels: true,
    summary_type: 'cls_index',
    summary_use_proj: true,
    task_specific_params: { 'text-generation': TEXT_GENERATION_DEFAULTS },
    torch_dtype: 'float32',
    use_cache: true,
    vocab_size: c.vocabSize,
    ...extra,
  };
}

export function generationConfigToHF(c: GPT2Config): Record<string, unknown> {
  return { _from_model_config: true, bos_token_id: c.bosTokenId, eos_token_id: c.eosTokenId };
}
