// The JSON the server sends, as the page reads it (README: "HTTP API"). The
// train() events and their rows are the library's own types.
import type { DatasetStats } from '../lib/data/dataset.js';
import type { MetricRow, Sample } from '../lib/train/run-summary.js';
import type { TrainEvent } from '../lib/train/train.js';

export type { DatasetStats, MetricRow, Sample, TrainEvent };

export type RunStatus = 'queued' | 'running' | 'done' | 'failed' | 'stopped' | 'interrupted';

export interface RunState {
  id: string;
  status: RunStatus;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  request: { sources: string[]; base: string; options: Record<string, unknown> };
  dataset?: { stats: DatasetStats; table: string; warnings: string[] };
  device?: string;
  progress?: { step: number; totalSteps: number; loss: number; tokensPerSecond: number; etaSeconds: number };
  metrics: MetricRow[];
  validation: { when: 'before' | 'after'; loss: number; perplexity: number }[];
  samples: Sample[];
  model?: string;
  resumable: boolean;
  error?: string;
}

/** One message of GET /api/runs/:id/events. */
export type RunEvent = { type: 'status'; run: RunState } | { type: 'train'; event: TrainEvent };

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

export const FINISHED: ReadonlySet<RunStatus> = new Set(['done', 'failed', 'stopped', 'interrupted']);
