// GET /api/health and GET /api/defaults: what the page asks first. The
// defaults are the library's own (lib/defaults.ts), so the page's settings
// form shows what `tweetsmith train` would use.
import type { FastifyInstance } from 'fastify';
import { LORA_DEFAULTS, SAMPLING_DEFAULTS, TRAIN_DEFAULTS } from '../../defaults.js';
import { readPackageVersion } from '../../version.js';
import { ALLOWED_RUN_OPTIONS } from '../runs/run-manager.js';

/** The training defaults a run's options may change (the allow-list's names that TRAIN_DEFAULTS holds). */
export function allowedTrainDefaults(): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  for (const name of ALLOWED_RUN_OPTIONS) if (Object.hasOwn(TRAIN_DEFAULTS, name)) defaults[name] = TRAIN_DEFAULTS[name as keyof typeof TRAIN_DEFAULTS];
  return defaults;
}

export function registerInfo(app: FastifyInstance, maxUploadBytes: number): void {
  const version = readPackageVersion();
  app.get('/api/health', async () => ({ ok: true, version }));
  app.get('/api/defaults', async () => ({
    train: allowedTrainDefaults(),
    sampling: SAMPLING_DEFAULTS,
    lora: LORA_DEFAULTS,
    options: ALLOWED_RUN_OPTIONS,
    maxUploadBytes,
  }));
}
