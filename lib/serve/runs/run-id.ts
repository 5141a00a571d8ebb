// A run's id: its start time (UTC, to the second) and 4 random hex digits, so
// that `ls WORKDIR/runs` lists runs by age and two runs made in the same second
// differ. Every id that comes from a request is checked against the pattern
// before it is joined to a path: nothing but digits, a dash and hex reaches the
// file system.
import { randomBytes } from 'node:crypto';
import { ServeError } from '../serve-error.js';

export const RUN_ID_PATTERN = /^\d{8}-\d{6}-[0-9a-f]{4}$/;

export function newRunId(now = new Date()): string {
  const iso = now.toISOString(); // 2026-11-30T01:54:22.123Z
  const date = iso.slice(0, 10).replaceAll('-', '');
  const time = iso.slice(11, 19).replaceAll(':', '');
  return `${date}-${time}-${randomBytes(2).toString('hex')}`;
}

export function isRunId(id: unknown): id is string {
  return typeof id === 'string' && RUN_ID_PATTERN.test(id);
}

/** Throws ServeError(404) unless `id` is a well-formed run id (a malformed one names no run). */
export function checkRunId(id: unknown): string {
  if (!isRunId(id)) throw new ServeError(404, `no run "${String(id).slice(0, 40)}": run ids look like 20261130-015422-3fa9`);
  return id;
}
