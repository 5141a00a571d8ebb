// Parsers for command-line option values, shared by every command: a bad value
// is an error that names what was expected.
import { InvalidArgumentError } from 'commander';
import { parseDevice, type DeviceRequest } from '../engine/device.js';

export function wholeNumber(min: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(number) || number < min) {
      throw new InvalidArgumentError(`expected a whole number ≥ ${min}, got "${value}"`);
    }
    return number;
  };
}

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
