// A clock whose sleeps return at once and move time forward, so a test can
// sit through a 15-minute rate-limit wait in no time and see every second of it.
import type { Clock } from '../../../lib/sources/index.js';

export interface FakeClock extends Clock {
  /** Every sleep asked for, in ms. */
  sleeps: number[];
}

export function fakeClock(startMs: number): FakeClock {
  let now = startMs;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

/** A progress sink that keeps what was written. */
export function captureProgress(isTTY = false): { write(text: string): void; isTTY: boolean; text(): string } {
  const chunks: string[] = [];
  return { write: (text) => void chunks.push(text), isTTY, text: () => chunks.join('') };
}
