// The bounds every size that comes from outside (config.json, a safetensors
// header, tokenizer files, an option) is checked against before anything is
// allocated. native/engine/limits.h holds the same numbers for the engine, which
// checks again: these checks come first and name the file or the option.
// Like defaults.ts, this module imports no value, so every layer may depend on it.

/** GPT-2's shape: far above any published GPT-2 (XL: 48 layers, 1600 wide), low enough that no byte size overflows. */
export const SHAPE_LIMITS = Object.freeze({
  nLayer: 1024,
  nEmbd: 2 ** 16,
  nHead: 2 ** 16,
  nPositions: 2 ** 20,
  vocabSize: 2 ** 24,
});

/** CPU threads: ggml's thread pool holds at most 512; more than a few per core only adds contention. */
export const MAX_THREADS = 256;

/** Sequences sampled at once (`-n`). */
export const MAX_SEQUENCES = 4096;

/** The largest token id a tokenizer file may give (a vocabulary this size is already 16× GPT-2's largest cousins'). */
export const MAX_TOKEN_ID = SHAPE_LIMITS.vocabSize - 1;

/** A safetensors header longer than this is refused before it is read (the reference reader refuses 100 MB). */
export const MAX_SAFETENSORS_HEADER = 100 * 1024 * 1024;

/** The number of parameters of a GPT-2 of this shape (exact: every term stays far below 2^53 within SHAPE_LIMITS). */
export function parameterCount(c: { nLayer: number; nEmbd: number; nPositions: number; vocabSize: number }): number {
  const C = c.nEmbd;
  return (c.vocabSize + c.nPositions) * C + c.nLayer * (12 * C * C + 13 * C) + 2 * C;
}
