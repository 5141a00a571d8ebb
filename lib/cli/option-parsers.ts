// Parsers for command-line option values, shared by every command: a bad value
// is an error that names what was expected.
import { InvalidArgumentError } from 'commander';
import { parseDevice, type DeviceRequest } from '../engine/device.js';
import { MAX_SEQUENCES, MAX_THREADS, SHAPE_LIMITS } from '../limits.js';

/** A whole number from `min` to `max`: every size option is bounded before anything is allocated for it. */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(number) || number < min) {
      throw new InvalidArgumentError(`expected a whole number ≥ ${min}, got "${value}"`);
    }
    if (number > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}, got "${value}"`);
    return number;
  };
}

/** --threads: 1 … MAX_THREADS. */
export const threadCount = wholeNumber(1, MAX_THREADS);
/** --n-layer, --n-head, --n-embd, --n-ctx (init-model's shape overrides). */
export const layerCount = wholeNumber(1, SHAPE_LIMITS.nLayer);
export const headCount = wholeNumber(1, SHAPE_LIMITS.nHead);
export const width = wholeNumber(1, SHAPE_LIMITS.nEmbd);
export const contextLength = wholeNumber(1, SHAPE_LIMITS.nPositions);
/** A length in tokens from `min`: no model holds more than SHAPE_LIMITS.nPositions. */
export const tokenLength = (min: number) => wholeNumber(min, SHAPE_LIMITS.nPositions);
/** -n: sequences sampled at once. */
export const sequenceCount = wholeNumber(1, MAX_SEQUENCES);
/** --top-k: at most a vocabulary's size. */
export const topK = wholeNumber(0, SHAPE_LIMITS.vocabSize);
/** --batch-size, --grad-accum: blocks per micro-batch or step (a batch's activations grow with it). */
export const batchCount = wholeNumber(1, 65536);

export function fraction(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !(number >= 0 && number < 1)) {
    throw new InvalidArgumentError(`expected a fraction from 0 up to (not including) 1, got "${value}"`);
  }
  return number;
}

export function positiveNumber(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number <= 0) {
    throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  }
  return number;
}

export function oneOf<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`expected one of ${choices.join(', ')}, got "${value}"`);
    }
    return value as T;
  };
}

/** --device: auto, cpu, vulkan, cuda, or a GPU by index (vulkan:1). */
export function deviceName(value: string): DeviceRequest {
  try {
    return parseDevice(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

export const DEVICE_HELP = 'auto (a CUDA GPU, else a hardware Vulkan GPU, else the CPU), cpu, vulkan, cuda, or vulkan:N / cuda:N (default: TWEETSMITH_DEVICE, else auto)';

/** A finite number ≥ 0 (temperature, weight decay, a clipping norm): "abc" is an error, not NaN. */
export function nonNegativeNumber(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0) {
    throw new InvalidArgumentError(`expected a number ≥ 0, got "${value}"`);
  }
  return number;
}
