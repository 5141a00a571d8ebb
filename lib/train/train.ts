// A whole fine-tuning run, as the original tool ran it and then some: posts →
// dataset → GPT-2 fine-tuned with AdamW on a schedule → samples → a Hugging Face
// model directory with its model card and run record. Progress comes out as
// events; stop() (or the signal) ends it after the current step with a checkpoint
// from which `resume` continues to exactly the weights of an uninterrupted run.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import {
  buildDataset,
  collectPosts,
  createRng,
  renderDataTable,
  shuffled,
  type Dataset,
  type DatasetStats,
  type UserPosts,
} from '../data/index.js';
import { SAMPLING_DEFAULTS, TRAIN_DEFAULTS } from '../defaults.js';
import { GPT2 } from '../engine/gpt2.js';
import type { StepStats, Trainer } from '../engine/trainer.js';
import { samplePosts } from '../generate/samples.js';
import type { Precision } from '../engine/native.js';
import { resolveModel, type ResolveModelOptions } from '../hub/index.js';
import { countParameters } from '../model/parameters.js';
import { renderModelCard, writeRunRecord } from '../report/index.js';
import type { MetricRow, RunSummary, Sample, TrainHyperparameters } from './run-summary.js';
import type { SourceOptions } from '../sources/index.js';
import { Tokenizer } from '../tokenizer/index.js';
import { readPackageVersion } from '../version.js';
import { CHECKPOINT_VERSION, checkpointDir, loadOptimizerState, readCheckpoint, removeCheckpoint, writeCheckpoint, type CheckpointState } from './checkpoint.js';
import { EventQueue } from './event-queue.js';
import { learningRateAt, warmupSteps, type ScheduleName } from './schedule.js';

export interface TrainOptions {
  /** 1 to 3 people's posts: source strings as `tweetsmith dataset` takes them */
  sources: string[];
  /** a local model directory or a hub id such as "gpt2" */
  base: string;
  /** the model directory to write */
  out: string;
  epochs?: number;
  lr?: number;
  schedule?: ScheduleName;
  /** warm-up as a fraction of the optimizer steps */
  warmup?: number;
  batchSize?: number;
  gradAccum?: number;
  /** tokens per training block (default: the model's context) */
  blockSize?: number;
  maxSteps?: number;
  /** seed of the data shuffles, block order and samples (default: random, recorded) */
  seed?: number;
  threads?: number;
  device?: 'cpu' | 'cuda' | 'auto';
  /** 'fp32' (default, exact) or 'bf16' (mixed precision, faster on CPUs with AVX512-BF16 or AMX) */
  precision?: Precision;
  /** fraction of each person's posts held out for validation loss and perplexity */
  validSplit?: number;
  allowNewlines?: boolean;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  maxGradNorm?: number;
  /** a loss line every this many steps (default: TRAIN_DEFAULTS.logEvery) */
  logEvery?: number;
  /** measure the validation loss every this many steps too (default: before and after only) */
  evalEvery?: number;
  /** also write a checkpoint every this many steps (default: only when stopped) */
  checkpointEvery?: number;
  /** continue from OUT.checkpoint */
  resume?: boolean;
  /** samples written into the card (default: TRAIN_DEFAULTS.samples) and their prompt (SAMPLING_DEFAULTS.prompt) */
  samples?: number;
  samplePrompt?: string;
  /** say the base is a random initialisation (the demo), in the card and report */
  baseIsRandom?: boolean;
  /** how the card names the base (default: `base` as given) */
  baseLabel?: string;
  minCharacters?: number;
  warnCharacters?: number;
  sourceOptions?: SourceOptions;
  hub?: ResolveModelOptions;
  /** aborting it stops the run after the current step, with a checkpoint */
  signal?: AbortSignal;
}

export type TrainEvent =
  | { type: 'download'; file: string; received: number; total?: number }
  | { type: 'base'; dir: string }
  | { type: 'dataset'; stats: DatasetStats; table: string; warnings: string[] }
  | { type: 'start'; startStep: number; totalSteps: number; tokensPerStep: number }
  | { type: 'step'; row: MetricRow; totalSteps: number; stats: StepStats }
  | { type: 'validation'; when: 'before' | 'after'; loss: number; perplexity: number }
  | { type: 'checkpoint'; dir: string; step: number }
  | { type: 'samples'; samples: Sample[] }
  | { type: 'saved'; dir: string };

export interface TrainResult {
  out: string;
  summary: RunSummary;
  /** true when the run was stopped early; `checkpoint` then holds where to resume */
  interrupted: boolean;
  checkpoint?: string;
}

export interface TrainingRun extends AsyncIterable<TrainEvent> {
  readonly result: Promise<TrainResult>;
  /** ends the run after the current step, writing a checkpoint */
  stop(): void;
}

/** Starts a training run; iterate it for progress events, await `result` for the outcome. */
export function train(options: TrainOptions): TrainingRun {
  const queue = new EventQueue<TrainEvent>();
  const stopper = new AbortController();
  const onAbort = () => stopper.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const result = runTraining(options, (e) => queue.push(e), stopper.signal).finally(() => {
    options.signal?.removeEventListener('abort', onAbort);
    queue.close();
  });
  result.catch(() => undefined); // the caller observes it through `result`
  return {
    result,
    stop: () => stopper.abort(),
    [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator](),
  };
}

function checkHyperparameters(h: TrainHyperparameters, maxSteps: number | undefined): void {
  const positiveInteger = (v: number, name: string) => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
  };
  positiveInteger(h.epochs, 'epochs');
  positiveInteger(h.batchSize, 'batch size');
  positiveInteger(h.gradAccum, 'gradient accumulation');
  if (maxSteps !== undefined) positiveInteger(maxSteps, 'max steps');
  if (!(h.learningRate > 0 && Number.isFinite(h.learningRate))) throw new Error(`learning rate must be a positive number, got ${h.learningRate}`);
  if (!(h.warmup >= 0 && h.warmup < 1)) throw new Error(`warm-up is a fraction of the steps in [0, 1), got ${h.warmup}`);
}

function readHyperparameters(options: TrainOptions, blockSize: number, seed: number, threads: number): TrainHyperparameters {
  const h: TrainHyperparameters = {
    epochs: options.epochs ?? TRAIN_DEFAULTS.epochs,
    learningRate: options.lr ?? TRAIN_DEFAULTS.lr,
    schedule: options.schedule ?? TRAIN_DEFAULTS.schedule,
    warmup: options.warmup ?? TRAIN_DEFAULTS.warmup,
    batchSize: options.batchSize ?? TRAIN_DEFAULTS.batchSize,
    gradAccum: options.gradAccum ?? TRAIN_DEFAULTS.gradAccum,
    blockSize,
    steps: 0,
    seed,
    beta1: options.beta1 ?? TRAIN_DEFAULTS.beta1,
    beta2: options.beta2 ?? TRAIN_DEFAULTS.beta2,
    eps: options.eps ?? TRAIN_DEFAULTS.eps,
    weightDecay: options.weightDecay ?? TRAIN_DEFAULTS.weightDecay,
    maxGradNorm: options.maxGradNorm ?? TRAIN_DEFAULTS.maxGradNorm,
    threads,
    device: options.device ?? 'cpu',
    precision: options.precision ?? TRAIN_DEFAULTS.precision,
  };
  checkHyperparameters(h, options.maxSteps);
  return h;
}

/** Rows of `blockSize` tokens, as arrays, for the blocks at `indices`. */
function blockRows(blocks: Uint32Array, blockSize: number, indices: number[]): number[][] {
  return indices.map((i) => Array.from(blocks.subarray(i * blockSize, (i + 1) * blockSize)));
}

async function meanLoss(model: GPT2, blocks: Uint32Array, blockSize: number, batchSize: number): Promise<number> {
  const n = blocks.length / blockSize;
  let sum = 0;
  for (let start = 0; start < n; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, n - start) }, (_, i) => start + i);
    sum += (await model.loss(blockRows(blocks, blockSize, indices))) * indices.length;
  }
  return sum / n;
}

/** How the run names its base: a hub id as given; a local folder by its name only (the run record is published). */
function baseName(options: TrainOptions): string {
  if (options.baseLabel) return options.baseLabel;
  return existsSync(options.base) ? basename(resolve(options.base)) : options.base;
}

async function runTraining(options: TrainOptions, emit: (e: TrainEvent) => void, stopSignal: AbortSignal): Promise<TrainResult> {
  const startedAt = new Date().toISOString();
  const ckptDir = checkpointDir(options.out);
  const resumed = options.resume ? await readCheckpoint(ckptDir) : undefined;

  // -- the base model and its tokenizer
  const baseDir = resumed
    ? ckptDir
    : await resolveModel(options.base, { ...options.hub, progress: (p) => emit({ type: 'download', ...p }) });
  emit({ type: 'base', dir: baseDir });
  const precision = resumed?.state.hyperparameters.precision ?? options.precision;
  const model = await GPT2.load(baseDir, { threads: options.threads, device: options.device, precision: precision as Precision | undefined });
  try {
    const hasTokenizer = ['vocab.json', 'tokenizer.json'].some((f) => existsSync(join(baseDir, f)));
    const tokenizer = hasTokenizer ? await Tokenizer.fromDir(baseDir) : Tokenizer.gpt2();

    // -- the data (a resumed run uses the posts it started with)
    const seed = resumed?.state.hyperparameters.seed ?? options.seed ?? Math.floor(Math.random() * 2 ** 32);
    const blockSize = resumed?.state.hyperparameters.blockSize ?? options.blockSize ?? model.config.nPositions;
    if (blockSize > model.config.nPositions || blockSize < 2) {
      throw new Error(`block size ${blockSize} must be between 2 and the model's context (${model.config.nPositions} tokens)`);
    }
    const h = resumed?.state.hyperparameters ?? readHyperparameters(options, blockSize, seed, model.threads);
    const users: UserPosts[] = resumed?.users ?? (await collectPosts(options.sources, options.sourceOptions));
    const dataset: Dataset = await buildDataset({
      users,
      epochs: h.epochs,
      seed: h.seed,
      blockSize: h.blockSize,
      validSplit: options.validSplit ?? TRAIN_DEFAULTS.validSplit,
      allowNewlines: options.allowNewlines ?? false,
      minCharacters: options.minCharacters,
      warnCharacters: options.warnCharacters,
      tokenizer,
    });
    emit({ type: 'dataset', stats: dataset.stats, table: renderDataTable(dataset.stats.users), warnings: dataset.stats.warnings });

    // -- the plan: one pass over the blocks in a seeded order, batch × accumulation blocks per update
    const blocksPerStep = h.batchSize * h.gradAccum;
    const nBlocks = dataset.stats.trainBlocks;
    const fullSteps = Math.floor(nBlocks / blocksPerStep);
    if (fullSteps < 1) {
      throw new Error(
        `the training text makes ${nBlocks} block(s) of ${h.blockSize} tokens, fewer than one optimizer step needs ` +
          `(batch size ${h.batchSize} × gradient accumulation ${h.gradAccum}); use more posts, more epochs or a smaller --block-size`,
      );
    }
    const totalSteps = resumed?.state.totalSteps ?? Math.min(fullSteps, options.maxSteps ?? fullSteps);
    h.steps = totalSteps;
    const order = shuffled(Array.from({ length: nBlocks }, (_, i) => i), createRng(h.seed, 'block-order'));
    const warmup = warmupSteps(h.warmup, totalSteps);

    const trainer: Trainer = model.trainer({
      beta1: h.beta1, beta2: h.beta2, eps: h.eps, weightDecay: h.weightDecay, maxGradNorm: h.maxGradNorm, gradAccum: h.gradAccum,
    });
    const metrics: MetricRow[] = resumed?.state.metrics ?? [];
    let startStep = 0;
    if (resumed) {
      startStep = resumed.state.step;
      await loadOptimizerState(ckptDir, trainer, startStep);
    }

    // what a resumed run keeps from its start
    const baseModel = resumed?.state.baseModel ?? baseName(options);
    const baseIsRandom = resumed?.state.baseIsRandom ?? options.baseIsRandom ?? false;
    const runStartedAt = resumed?.state.startedAt ?? startedAt;

    const validBlocks = dataset.stats.validBlocks;
    let validLossBefore = resumed?.state.validLossBefore;
    if (validBlocks > 0 && !resumed) {
      validLossBefore = await meanLoss(model, dataset.validBlocks, h.blockSize, h.batchSize);
      emit({ type: 'validation', when: 'before', loss: validLossBefore, perplexity: Math.exp(validLossBefore) });
    }

    const state = (step: number, trainSeconds: number): CheckpointState => ({
      version: CHECKPOINT_VERSION, step, totalSteps, hyperparameters: h, sources: options.sources, baseModel, baseIsRandom,
      metrics, validLossBefore, trainSeconds, startedAt: runStartedAt,
    });

    // -- the loop
    emit({ type: 'start', startStep, totalSteps, tokensPerStep: blocksPerStep * h.blockSize });
    const priorSeconds = resumed?.state.trainSeconds ?? 0;
    const loopStart = performance.now();
    const elapsed = () => priorSeconds + (performance.now() - loopStart) / 1000;
    let step = startStep;
    for (; step < totalSteps && !stopSignal.aborted; step++) {
      const lr = learningRateAt(step, totalSteps, h.learningRate, h.schedule, warmup);
      const rows = blockRows(dataset.trainBlocks, h.blockSize, order.slice(step * blocksPerStep, (step + 1) * blocksPerStep));
      const t0 = performance.now();
      const stats = await trainer.stepWithStats(rows, { lr });
      const row: MetricRow = {
        step: step + 1,
        loss: stats.loss,
        lr,
        tokensPerSecond: (blocksPerStep * h.blockSize) / ((performance.now() - t0) / 1000),
        elapsed: elapsed(),
      };
      const evalEvery = options.evalEvery ?? 0;
      if (validBlocks > 0 && evalEvery > 0 && (step + 1) % evalEvery === 0 && step + 1 < totalSteps) {
        row.validLoss = await meanLoss(model, dataset.validBlocks, h.blockSize, h.batchSize);
      }
      metrics.push(row);
      emit({ type: 'step', row, totalSteps, stats });
      const every = options.checkpointEvery ?? 0;
      if (every > 0 && (step + 1) % every === 0 && step + 1 < totalSteps) {
        await writeCheckpoint(ckptDir, model, trainer, users, state(step + 1, elapsed()));
        emit({ type: 'checkpoint', dir: ckptDir, step: step + 1 });
      }
    }
    const trainSeconds = elapsed();

    const summaryOf = (final: RunSummary['final'], samples: Sample[]): RunSummary => ({
      modelName: dataset.stats.name,
      dataset: dataset.stats,
      baseModel,
      baseIsRandom,
      model: { ...model.config, parameters: countParameters(model.config) },
      hyperparameters: h,
      metrics,
      final,
      samples,
      hashes: {},
      startedAt: runStartedAt,
      finishedAt: new Date().toISOString(),
      trainSeconds,
      tweetsmithVersion: readPackageVersion(),
    });
    const lastLoss = metrics.length ? metrics[metrics.length - 1].loss : NaN;

    if (step < totalSteps) {
      // stopped early: keep everything needed to continue
      await writeCheckpoint(ckptDir, model, trainer, users, state(step, trainSeconds));
      emit({ type: 'checkpoint', dir: ckptDir, step });
      return { out: options.out, summary: summaryOf({ trainLoss: lastLoss, validLossBefore }, []), interrupted: true, checkpoint: ckptDir };
    }

    // -- after training: validation, samples, the model directory
    const final: RunSummary['final'] = { trainLoss: lastLoss, validLossBefore };
    if (validBlocks > 0) {
      final.validLoss = await meanLoss(model, dataset.validBlocks, h.blockSize, h.batchSize);
      final.validPerplexity = Math.exp(final.validLoss);
      if (metrics.length) metrics[metrics.length - 1].validLoss = final.validLoss;
      emit({ type: 'validation', when: 'after', loss: final.validLoss, perplexity: final.validPerplexity });
    }
    const prompt = options.samplePrompt ?? SAMPLING_DEFAULTS.prompt;
    const nSamples = options.samples ?? TRAIN_DEFAULTS.samples;
    const texts = nSamples > 0 ? await samplePosts(model, tokenizer, prompt, { n: nSamples, seed: h.seed, allowNewlines: options.allowNewlines }) : [];
    const samples = texts.map((text) => ({ prompt, text }));
    emit({ type: 'samples', samples });

    const summary = summaryOf(final, samples);
    const postsJsonl = users.flatMap((u) => u.posts.map((p) => JSON.stringify(p))).join('\n') + '\n';
    await model.save(options.out, {
      addFiles: async (tmp) => {
        summary.hashes = await writeRunRecord(join(tmp, 'run'), summary, { postsJsonl, trainText: dataset.trainText, validText: dataset.validText || undefined });
        await writeFile(join(tmp, 'README.md'), renderModelCard(summary));
      },
    });
    await removeCheckpoint(ckptDir);
    emit({ type: 'saved', dir: options.out });
    return { out: options.out, summary, interrupted: false };
  } finally {
    await model.dispose();
  }
}
