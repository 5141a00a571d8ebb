// The JSON the server sends, as the page reads it (README: "HTTP API"). A
// run's state and events are the server's own types, the train() events and
// rows the library's: the page cannot drift from what the server sends.
import type { DatasetStats } from '../lib/data/dataset.js';
import type { RunEvent, RunState, RunStatus } from '../lib/serve/runs/run-manager.js';
import type { MetricRow, Sample } from '../lib/train/run-summary.js';
import type { TrainEvent } from '../lib/train/train.js';

export type { DatasetStats, MetricRow, RunEvent, RunState, RunStatus, Sample, TrainEvent };

/** GET /api/defaults: the library's defaults, so the form starts where the CLI does. */
export interface Defaults {
  train: Record<string, unknown> & { epochs: number; lr: number; validSplit: number; precision: string; samples: number };
  sampling: { prompt: string; n: number; maxLength: number; minLength: number; temperature: number; topP: number; topK: number };
  lora?: { rank: number; alpha: number; dropout: number; targets: readonly string[] };
  /** the run options the server accepts (the allow-list) */
  options?: string[];
  maxUploadBytes: number;
}

export interface Upload {
  id: string;
  name: string;
  bytes: number;
}
