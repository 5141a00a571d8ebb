// Everything a finished (or interrupted) training run knows about itself: what
// the model card, the run record and report.html are written from.
import type { DatasetStats } from '../data/index.js';
import type { ScheduleName } from './schedule.js';

export interface TrainHyperparameters {
  /** shuffled copies of the data inside the training text */
  epochs: number;
  learningRate: number;
  schedule: ScheduleName;
  /** warm-up as a fraction of the optimizer steps */
  warmup: number;
  batchSize: number;
  gradAccum: number;
  blockSize: number;
  /** optimizer steps taken (or planned, before training) */
  steps: number;
  seed: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  maxGradNorm: number;
  threads: number;
  device: string;
  /** 'fp32' or 'bf16' (mixed); absent in runs from before precision modes: fp32 */
  precision?: string;
  /** present when the run trained LoRA adapters (the base frozen) instead of every weight */
  lora?: {
    rank: number;
    alpha: number;
    dropout: number;
    targets: string[];
    /** how the frozen base's block matrices were stored ('f32', 'bf16', 'f16'); absent in runs from before the choice: f32 */
    baseType?: string;
  };
}

export interface MetricRow {
  /** optimizer step, from 1 */
  step: number;
  loss: number;
  lr: number;
  tokensPerSecond: number;
  /** seconds since training started */
  elapsed: number;
  /** present on the steps where validation ran */
  validLoss?: number;
}

export interface Sample {
  prompt: string;
  text: string;
}

export interface RunSummary {
  /** the model's name: the handle for a bot, the sorted handles joined with '-' for a cyborg */
  modelName: string;
  dataset: DatasetStats;
  /** what --base named: a hub id such as "gpt2", or a local directory */
  baseModel: string;
  /** true when the base was a random initialisation (the demo), not a pre-trained GPT-2 */
  baseIsRandom: boolean;
  /** the model's shape */
  model: { nLayer: number; nHead: number; nEmbd: number; nPositions: number; vocabSize: number; parameters: number };
  hyperparameters: TrainHyperparameters;
  metrics: MetricRow[];
  final: {
    trainLoss: number;
    /** loss and perplexity on the held-out split, when there is one */
    validLoss?: number;
    validPerplexity?: number;
    /** validation loss of the base model before fine-tuning, when measured */
    validLossBefore?: number;
  };
  samples: Sample[];
  /** sha256 of the files in the run record */
  hashes: Record<string, string>;
  startedAt: string;
  finishedAt: string;
  /** seconds of training */
  trainSeconds: number;
  tweetsmithVersion: string;
}
