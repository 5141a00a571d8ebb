// Sampling as an async stream of token events: the engine chooses one token per
// sequence per step (off the JS thread); the stream hands them out as they come.
import { SAMPLING_DEFAULTS } from '../defaults.js';
import { loadNative, type NativeModel } from './native.js';

export interface GenerateOptions {
  /** sequences sampled together (default 1) */
  n?: number;
  /** total length, prompt included, as Hugging Face counts it (default: SAMPLING_DEFAULTS.maxLength) */
  maxLength?: number;
  /** no end-of-text before this total length (default: SAMPLING_DEFAULTS.minLength) */
  minLength?: number;
  /** default: SAMPLING_DEFAULTS.temperature; 0 always takes the most likely token */
  temperature?: number;
  /** nucleus sampling mass (default: SAMPLING_DEFAULTS.topP; 1 turns it off) */
  topP?: number;
  /** keep only the k most likely tokens (default: SAMPLING_DEFAULTS.topK; 0 is off) */
  topK?: number;
  /** the same seed gives the same tokens (default: random) */
  seed?: number;
  eosTokenId?: number;
  /**
   * the weight matrices' format while sampling (default: SAMPLING_DEFAULTS.weights,
   * 'f32', the trained weights as they are): 'f16' and 'bf16' halve the memory
   * read per token, 'q8_0' about quarters it; each is converted once when
   * sampling starts
   */
  weights?: SamplingWeights;
  /** stops generation between steps */
  signal?: AbortSignal;
}

export interface TokenEvent {
  /** which of the n sequences */
  sequence: number;
  token: number;
  /** the token's position in its sequence (the prompt is 0..prompt.length-1) */
  position: number;
}

/** The same kind of error a cancelled engine call rejects with. */
export function abortError(reason: unknown): Error {
  const error = new Error('generation was aborted', { cause: reason });
  error.name = 'AbortError';
  return error;
}

export const SAMPLING_WEIGHTS = ['f32', 'f16', 'bf16', 'q8_0'] as const;
export type SamplingWeights = (typeof SAMPLING_WEIGHTS)[number];

type Exclusive = <T>(work: (native: NativeModel) => Promise<T>) => Promise<T>;

export async function* generateTokens(
  native: NativeModel,
  prompt: Int32Array,
  options: GenerateOptions & { seed: number },
  exclusive: Exclusive,
): AsyncGenerator<TokenEvent> {
  const opts = {
    n: options.n ?? 1,
    maxLength: options.maxLength ?? SAMPLING_DEFAULTS.maxLength,
    minLength: options.minLength ?? SAMPLING_DEFAULTS.minLength,
    temperature: options.temperature ?? SAMPLING_DEFAULTS.temperature,
    topP: options.topP ?? SAMPLING_DEFAULTS.topP,
    topK: options.topK ?? SAMPLING_DEFAULTS.topK,
    seed: options.seed,
    eosTokenId: options.eosTokenId ?? 50256,
    weights: options.weights ?? SAMPLING_DEFAULTS.weights,
  };
  const generator = new (loadNative().Generator)(native, prompt, opts);
  try {
    while (!generator.done) {
      if (options.signal?.aborted) throw abortError(options.signal.reason);
      const position = generator.length === 0 ? prompt.length : generator.length;
      const tokens = await exclusive(() => generator.step());
      for (let sequence = 0; sequence < tokens.length; sequence++) {
        if (tokens[sequence] >= 0) yield { sequence, token: tokens[sequence], position };
      }
    }
  } finally {
    // finished, stopped or abandoned by the consumer (a return() ends the loop at a
    // yield, never during a step): its memory goes now, not at garbage collection
    generator.release();
  }
}

/** Collects a generation into one token list per sequence (the prompt not included). */
export async function collectTokens(events: AsyncIterable<TokenEvent>, n: number): Promise<number[][]> {
  const out: number[][] = Array.from({ length: n }, () => []);
  for await (const e of events) out[e.sequence].push(e.token);
  return out;
}
