// What the page shows of a run, and how train() events build it. The state is
// a fold over the run's events (applyTrainEvent), so the state a server finds
// after a restart can be rebuilt from events.jsonl, and equals what the clients
// watching live saw.
import type { DatasetStats } from '../../data/index.js';
import type { MetricRow, Sample } from '../../train/run-summary.js';
import type { TrainEvent } from '../../train/train.js';
import type { RunOptions } from './run-options.js';

export type RunStatus = 'queued' | 'running' | 'done' | 'failed' | 'stopped' | 'interrupted';

/** Where a run's trained model (train()'s `out`) lives, relative to its run folder. */
export const RUN_MODEL_DIR = 'model';

export interface RunState {
  id: string;
  status: RunStatus;
  /** ISO times */
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  /** labels (upload names, the base's name), never absolute paths */
  request: { sources: string[]; base: string; options: RunOptions };
  dataset?: { stats: DatasetStats; table: string; warnings: string[] };
  device?: string;
  /** the newest step: step, totalSteps, loss, tokens per second, ETA in seconds (loss is NaN, null in JSON, before a first step) */
  progress?: { step: number; totalSteps: number; loss: number; tokensPerSecond: number; etaSeconds: number };
  /** every step row so far (train()'s rows), for the chart */
  metrics: MetricRow[];
  validation: { when: 'before' | 'after'; loss: number; perplexity: number }[];
  samples: Sample[];
  /** the model folder's name relative to the run ('model') once weights are written */
  model?: string;
  /** a checkpoint exists, so resume() can continue */
  resumable: boolean;
  error?: string;
}

export type RunEvent =
  | { type: 'status'; run: RunState } // any status change, with the whole state
  | { type: 'train'; event: TrainEvent }; // a train() event, as the child sent it (paths made relative to the run)

/** The state's fields that events fill, emptied: what a fold starts from. */
export function clearTrainFields(state: RunState): void {
  delete state.dataset;
  delete state.device;
  delete state.progress;
  delete state.model;
  state.metrics = [];
  state.validation = [];
  state.samples = [];
}

/**
 * Updates `state` with one train() event. `etaSeconds` is the mean time of the
 * steps so far (`elapsed` counts a resumed run's earlier sessions too, and the
 * validation passes) times the steps left.
 */
export function applyTrainEvent(state: RunState, event: TrainEvent): void {
  switch (event.type) {
    case 'device':
      state.device = event.device;
      break;
    case 'dataset':
      state.dataset = { stats: event.stats, table: event.table, warnings: event.warnings };
      break;
    case 'start':
      // a resumed run starts again at its checkpoint: rows past it are trained again
      state.metrics = state.metrics.filter((row) => row.step <= event.startStep);
      state.validation = state.validation.filter((v) => v.when === 'before');
      state.samples = [];
      state.progress = { step: event.startStep, totalSteps: event.totalSteps, loss: state.metrics.at(-1)?.loss ?? NaN, tokensPerSecond: 0, etaSeconds: 0 };
      break;
    case 'step': {
      state.metrics.push(event.row);
      const secondsPerStep = event.row.step > 0 ? event.row.elapsed / event.row.step : 0;
      state.progress = {
        step: event.row.step,
        totalSteps: event.totalSteps,
        loss: event.row.loss,
        tokensPerSecond: event.row.tokensPerSecond,
        etaSeconds: Math.max(0, (event.totalSteps - event.row.step) * secondsPerStep),
      };
      break;
    }
    case 'validation':
      state.validation = state.validation.filter((v) => v.when !== event.when);
      state.validation.push({ when: event.when, loss: event.loss, perplexity: event.perplexity });
      break;
    case 'checkpoint':
      state.resumable = true;
      break;
    case 'weights':
      state.model = RUN_MODEL_DIR;
      state.resumable = false; // a finished run removes its checkpoint
      break;
    case 'samples':
      state.samples = event.samples;
      break;
    default:
      break; // download, base, note, saved: in the events, not in the state
  }
}
