// Waiting out a rate limit with a countdown the user can see on stderr.
// The clock and the sleep are injectable so tests run a 15-minute wait in no time.
// The wait has a cap: the reset time comes from the server, and a server (or a
// daily quota) that says "come back tomorrow" must not hang a run for a day.
import { SOURCE_LIMITS } from '../defaults.js';
import { SourceError } from './errors.js';

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Where progress goes: process.stderr, or anything with a write method. */
export interface ProgressSink {
  write(text: string): unknown;
  /** On a terminal the countdown rewrites one line each second; elsewhere it prints a line every 30 s. */
  isTTY?: boolean;
}

const NON_TTY_INTERVAL_S = 30;

/**
 * Waits until `resumeAtMs` (plus a second of margin), showing "LABEL: rate
 * limited, resuming in m:ss". A reset more than `maxWaitMs` away (or no
 * number at all) is a SourceError that says when to try again.
 */
export async function waitForRateLimit(
  label: string,
  resumeAtMs: number,
  clock: Clock,
  progress: ProgressSink,
  maxWaitMs: number = SOURCE_LIMITS.maxRateLimitWaitMs,
): Promise<void> {
  const start = clock.now();
  if (!Number.isFinite(resumeAtMs) || resumeAtMs - start > maxWaitMs) {
    const when = Number.isFinite(resumeAtMs) && Math.abs(resumeAtMs) < 8.64e15 ? new Date(resumeAtMs).toISOString() : 'an unreadable time';
    throw new SourceError(
      label,
      `rate limited until ${when}, further away than the longest wait allowed (${formatDuration(Math.round(maxWaitMs / 1000))})`,
      `try again after ${when}, or allow a longer wait (maxRateLimitWaitMs)`,
    );
  }
  const deadline = resumeAtMs + 1000;
  let lastPrinted = Number.POSITIVE_INFINITY;
  for (let left = deadline - clock.now(); left > 0; left = deadline - clock.now()) {
    const seconds = Math.ceil(left / 1000);
    const line = `${label}: rate limited, resuming in ${formatDuration(seconds)}`;
    if (progress.isTTY) progress.write(`\r${line}\u001b[K`);
    else if (lastPrinted - seconds >= NON_TTY_INTERVAL_S || lastPrinted === Number.POSITIVE_INFINITY) {
      progress.write(`${line}\n`);
      lastPrinted = seconds;
    }
    // Sleep to the next whole second of the countdown.
    await clock.sleep(left - (seconds - 1) * 1000);
  }
  if (progress.isTTY) progress.write(`\r${label}: rate limit over, resuming\u001b[K\n`);
  else progress.write(`${label}: rate limit over, resuming\n`);
}

function formatDuration(totalSeconds: number): string {
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  return `${minutes}:${String(seconds).padStart(2, '0')}`;
}
