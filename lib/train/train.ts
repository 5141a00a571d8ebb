// A whole fine-tuning run, as the original tool ran it and then some: posts →
// dataset → GPT-2 fine-tuned with AdamW on a schedule → samples → a Hugging Face
// model directory with its model card and run record. Progress comes out as
// events; stop() (or the signal) ends it after the current step with a checkpoint
// from which `resume` continues to exactly the weights of an uninterrupted run.
import { existsSync } from 'node:fs';
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
import type { DeviceRequest } from '../engine/device.js';
import { loadNative, type Precision } from '../engine/native.js';
import { resolveModel, type ResolveModelOptions } from '../hub/index.js';
import { assertOutputWritable, writeFileIntoOutput } from '../fs/safe-output.js';
import { syncTree } from '../fs/sync.js';
import { modelTokenizer } from '../model/model-tokenizer.js';
import { countParameters } from '../model/parameters.js';
import { loraBaseType, loraSettings, type LoraBaseType, type LoraOptions } from '../model/lora-adapter.js';
import { renderModelCard, writeRunRecord } from '../report/index.js';
import { RUN_RECORD_DIR } from '../report/run-record-files.js';
import type { MetricRow, RunSummary, Sample, TrainHyperparameters } from './run-summary.js';
import type { SourceOptions } from '../sources/index.js';
import type { Tokenizer } from '../tokenizer/index.js';
import { readPackageVersion } from '../version.js';
import { CHECKPOINT_VERSION, checkpointDir, loadOptimizerState, readCheckpoint, removeCheckpoint, writeCheckpoint, type CheckpointState } from './checkpoint.js';
import { EventQueue } from './event-queue.js';
import { learningRateAt, warmupSteps, type ScheduleName } from './schedule.js';
import { availableMemory, checkTrainingFits } from './memory-estimate.js';

export interface TrainOptions {
  /** 1 to 3 people's posts: source strings as `tweetsmith dataset` takes them */
  sources: string[];
  /** a local model directory or a hub id such as "gpt2" */
  base: string;
  /** the model directory to write: new, empty, or a model tweetsmith wrote (anything else is refused) */
  out: string;
  /** also replace another kind of tweetsmith output at `out` (never files tweetsmith did not write) */
  force?: boolean;
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
  /** 'auto' (default), 'cpu', 'vulkan', 'cuda' or a GPU by index ('vulkan:1'); see GPT2.load */
  device?: DeviceRequest;
  /** 'fp32' (default, exact) or 'bf16' (mixed precision, faster on CPUs with AVX-512, most of all with AVX512-BF16) */
  precision?: Precision;
  /**
   * train LoRA adapters instead of every weight ({} for LORA_DEFAULTS): the base is
   * frozen, and OUT is an adapter in PEFT's layout that names the base
   */
  lora?: LoraOptions;
  /** refuse a run that will not fit in the memory available: the CPU's, or the free memory a GPU reports (default true) */
  memoryCheck?: boolean;
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
  | { type: 'device'; device: string; reason: string; fallbackOps: string[] }
  | { type: 'dataset'; stats: DatasetStats; table: string; warnings: string[] }
  | { type: 'start'; startStep: number; totalSteps: number; tokensPerStep: number }
  | { type: 'step'; row: MetricRow; totalSteps: number; stats: StepStats }
  | { type: 'validation'; when: 'before' | 'after'; loss: number; perplexity: number }
  | { type: 'checkpoint'; dir: string; step: number }
  | { type: 'note'; message: string }
  /** the trained model is on disk at `dir`; its card and run record follow */
  | { type: 'weights'; dir: string }
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

function readHyperparameters(options: TrainOptions, blockSize: number, seed: number, threads: number, device: string): TrainHyperparameters {
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
    device,
    precision: options.precision ?? TRAIN_DEFAULTS.precision,
    ...(options.lora
      ? { lora: { ...loraSettings(options.lora), baseType: loraBaseType(options.lora.baseType, options.precision ?? TRAIN_DEFAULTS.precision) } as TrainHyperparameters['lora'] }
      : {}),
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

/** How a LoRA adapter names its base: a hub id as given, a local folder by its absolute path (PEFT's base_model_name_or_path). */
function adapterBase(base: string): string {
  return existsSync(base) ? resolve(base) : base;
}

// ---------------------------------------------------------------- the run: prepare → loop → finish

/** A run ready for its first step: the model and its data, the plan, and what a resumed run keeps from its start. */
interface PreparedRun {
  options: TrainOptions;
  ckptDir: string;
  model: GPT2;
  tokenizer: Tokenizer;
  /** the posts the dataset was built from (a checkpoint keeps them) */
  users: UserPosts[];
  dataset: Dataset;
  /** the settings; `steps` is the planned total */
  h: TrainHyperparameters;
  trainer: Trainer;
  /** every training block once, in a seeded order; step s takes the s-th slice of blocksPerStep */
  order: number[];
  blocksPerStep: number;
  startStep: number;
  totalSteps: number;
  /** warm-up in whole steps */
  warmup: number;
  /** the logged steps so far (a resumed run's included) */
  metrics: MetricRow[];
  baseModel: string;
  baseIsRandom: boolean;
  startedAt: string;
  validLossBefore?: number;
  /** seconds trained before this process started (a resumed run) */
  priorSeconds: number;
}

/** Where the loop stopped: at totalSteps, or earlier when stopped. */
interface LoopEnd {
  step: number;
  trainSeconds: number;
}

async function runTraining(options: TrainOptions, emit: (e: TrainEvent) => void, stopSignal: AbortSignal): Promise<TrainResult> {
  const run = await prepareRun(options, emit);
  try {
    const end = await trainLoop(run, emit, stopSignal);
    return await finishRun(run, end, emit);
  } finally {
    await run.model.dispose();
  }
}

/**
 * Keeps the steps done when something fails after them: writes a checkpoint at
 * `step` (the optimizer steps completed) and returns the error to throw, which
 * says where the work is and how to continue. A run that had not moved past
 * its start (or its last checkpoint) has nothing new to keep.
 */
async function keepProgress(run: PreparedRun, step: number, trainSeconds: number, err: unknown, emit: (e: TrainEvent) => void): Promise<Error> {
  const error = err instanceof Error ? err : new Error(String(err));
  if (step <= run.startStep) return error;
  try {
    await writeCheckpoint(run.ckptDir, run.model, run.trainer, run.users, checkpointState(run, step, trainSeconds));
  } catch (writeErr) {
    return new Error(`${error.message} (and the checkpoint at step ${step} could not be written: ${(writeErr as Error).message})`, { cause: error });
  }
  emit({ type: 'checkpoint', dir: run.ckptDir, step });
  return new Error(`${error.message} (the ${step} steps done are kept in the checkpoint ${run.ckptDir}: run the same command with --resume to continue)`, {
    cause: error,
  });
}

/**
 * Loads the base model (or the checkpoint), builds the dataset, plans the steps and
 * sets up AdamW; measures the validation loss before training. The model is
 * disposed if any of it fails.
 */
async function prepareRun(options: TrainOptions, emit: (e: TrainEvent) => void): Promise<PreparedRun> {
  const startedAt = new Date().toISOString();
  if (options.lora) loraSettings(options.lora); // bad LoRA options fail before any download
  const ckptDir = checkpointDir(options.out);
  // before any download or training: a wrong --out must cost nothing
  await assertOutputWritable(options.out, 'model', { force: options.force });
  await assertOutputWritable(ckptDir, 'checkpoint');
  const resumed = options.resume ? await readCheckpoint(ckptDir) : undefined;

  // -- the base model and its tokenizer
  const baseDir = resumed
    ? ckptDir // GPT2.load finds a checkpoint's set-aside copy too
    : await resolveModel(options.base, { ...options.hub, progress: (p) => emit({ type: 'download', ...p }) });
  emit({ type: 'base', dir: baseDir });
  const precision = resumed?.state.hyperparameters.precision ?? options.precision;
  // a resumed LoRA run's checkpoint is an adapter: its base is stored as the run stored it
  const loraBase = resumed?.state.hyperparameters.lora?.baseType as LoraBaseType | undefined;
  const model = await GPT2.load(baseDir, { threads: options.threads, device: options.device, precision: precision as Precision | undefined, loraBase });
  const { reason, fallbackOps } = model.deviceInfo();
  emit({ type: 'device', device: model.device, reason, fallbackOps });
  try {
    const { tokenizer, note } = await modelTokenizer(resumed?.at ?? baseDir, model.config);
    if (note) emit({ type: 'note', message: note });

    // -- the data (a resumed run uses the posts it started with)
    const seed = resumed?.state.hyperparameters.seed ?? options.seed ?? Math.floor(Math.random() * 2 ** 32);
    const blockSize = resumed?.state.hyperparameters.blockSize ?? options.blockSize ?? model.config.nPositions;
    if (blockSize > model.config.nPositions || blockSize < 2) {
      throw new Error(`block size ${blockSize} must be between 2 and the model's context (${model.config.nPositions} tokens)`);
    }
    const h = resumed?.state.hyperparameters ?? readHyperparameters(options, blockSize, seed, model.threads, model.device);
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

    // -- the plan (a resumed run keeps its total)
    const plan = planSteps(h, dataset.stats.trainBlocks, options.maxSteps);
    const totalSteps = resumed?.state.totalSteps ?? plan.totalSteps;
    h.steps = totalSteps;

    // -- the optimizer, where a resumed run left it
    // before the gradients, AdamW state and activations are allocated: will they fit?
    if (options.memoryCheck ?? true) {
      const device = model.deviceInfo();
      const shape = { batchSize: h.batchSize, blockSize: h.blockSize, lora: h.lora };
      if (device.backend === 'cpu') {
        checkTrainingFits(model.config, shape, availableMemory());
      } else {
        // a GPU's free memory as its driver reports it, now that the weights are on it
        // (0 when the driver cannot tell: then the engine's own bounds are all there is)
        const free = loadNative().devices().find((d) => d.name === device.name)?.memoryFree ?? 0;
        if (free > 0) checkTrainingFits(model.config, shape, free, `${device.description} (${device.name})`);
      }
    }
    // with LoRA the adapters' init and dropout follow the run's seed; a resumed run's model has its adapters already
    const lora = h.lora ? { ...h.lora, baseType: h.lora.baseType as LoraBaseType | undefined, seed: h.seed, base: adapterBase(options.base) } : undefined;
    const trainer: Trainer = model.trainer({
      beta1: h.beta1, beta2: h.beta2, eps: h.eps, weightDecay: h.weightDecay, maxGradNorm: h.maxGradNorm, gradAccum: h.gradAccum, lora,
    });
    const startStep = resumed?.state.step ?? 0;
    if (resumed) await loadOptimizerState(resumed.at, trainer, startStep);

    let validLossBefore = resumed?.state.validLossBefore;
    if (dataset.stats.validBlocks > 0 && !resumed) {
      validLossBefore = await meanLoss(model, dataset.validBlocks, h.blockSize, h.batchSize);
      emit({ type: 'validation', when: 'before', loss: validLossBefore, perplexity: Math.exp(validLossBefore) });
    }

    return {
      options, ckptDir, model, tokenizer, users, dataset, h, trainer, order: plan.order, blocksPerStep: plan.blocksPerStep, startStep, totalSteps,
      warmup: warmupSteps(h.warmup, totalSteps),
      metrics: resumed?.state.metrics ?? [],
      // what a resumed run keeps from its start
      baseModel: resumed?.state.baseModel ?? baseName(options),
      baseIsRandom: resumed?.state.baseIsRandom ?? options.baseIsRandom ?? false,
      startedAt: resumed?.state.startedAt ?? startedAt,
      validLossBefore,
      priorSeconds: resumed?.state.trainSeconds ?? 0,
    };
  } catch (err) {
    await model.dispose();
    throw err;
  }
}

/** One pass over the blocks in a seeded order, batch × accumulation blocks per update, at most `maxSteps` updates. */
function planSteps(h: TrainHyperparameters, nBlocks: number, maxSteps: number | undefined): { blocksPerStep: number; totalSteps: number; order: number[] } {
  const blocksPerStep = h.batchSize * h.gradAccum;
  const fullSteps = Math.floor(nBlocks / blocksPerStep);
  if (fullSteps < 1) {
    throw new Error(
      `the training text makes ${nBlocks} block(s) of ${h.blockSize} tokens, fewer than one optimizer step needs ` +
        `(batch size ${h.batchSize} × gradient accumulation ${h.gradAccum}); use more posts, more epochs or a smaller --block-size`,
    );
  }
  const order = shuffled(Array.from({ length: nBlocks }, (_, i) => i), createRng(h.seed, 'block-order'));
  return { blocksPerStep, totalSteps: Math.min(fullSteps, maxSteps ?? fullSteps), order };
}

/**
 * The optimizer steps, from startStep until totalSteps or a stop; a checkpoint
 * every `checkpointEvery` steps, and one when anything fails, at the last step
 * completed, so that --resume continues.
 */
async function trainLoop(run: PreparedRun, emit: (e: TrainEvent) => void, stopSignal: AbortSignal): Promise<LoopEnd> {
  const { options, model, dataset, h, trainer, totalSteps, blocksPerStep } = run;
  const validBlocks = dataset.stats.validBlocks;
  emit({ type: 'start', startStep: run.startStep, totalSteps, tokensPerStep: blocksPerStep * h.blockSize });
  const loopStart = performance.now();
  const elapsed = () => run.priorSeconds + (performance.now() - loopStart) / 1000;
  let completed = run.startStep; // optimizer steps whose update is in the weights
  try {
    for (let step = run.startStep; step < totalSteps && !stopSignal.aborted; step++) {
      const lr = learningRateAt(step, totalSteps, h.learningRate, h.schedule, run.warmup);
      const rows = blockRows(dataset.trainBlocks, h.blockSize, run.order.slice(step * blocksPerStep, (step + 1) * blocksPerStep));
      const t0 = performance.now();
      const stats = await trainer.stepWithStats(rows, { lr });
      completed = step + 1;
      const row: MetricRow = {
        step: step + 1,
        loss: stats.loss,
        lr,
        tokensPerSecond: (blocksPerStep * h.blockSize) / ((performance.now() - t0) / 1000),
        elapsed: elapsed(),
      };
      run.metrics.push(row);
      const evalEvery = options.evalEvery ?? 0;
      if (validBlocks > 0 && evalEvery > 0 && (step + 1) % evalEvery === 0 && step + 1 < totalSteps) {
        row.validLoss = await meanLoss(model, dataset.validBlocks, h.blockSize, h.batchSize);
      }
      emit({ type: 'step', row, totalSteps, stats });
      const every = options.checkpointEvery ?? 0;
      if (every > 0 && (step + 1) % every === 0 && step + 1 < totalSteps) {
        await writeCheckpoint(run.ckptDir, model, trainer, run.users, checkpointState(run, step + 1, elapsed()));
        emit({ type: 'checkpoint', dir: run.ckptDir, step: step + 1 });
      }
    }
  } catch (err) {
    throw await keepProgress(run, completed, elapsed(), err, emit);
  }
  return { step: completed, trainSeconds: elapsed() };
}

/**
 * A stopped run writes its checkpoint. A finished one writes the trained model
 * first, then measures the validation loss, samples posts and adds its card and
 * run record: whatever fails after the weights are on disk (a tokenizer that
 * cannot decode an id, a full disk while writing the report) loses no training.
 */
async function finishRun(run: PreparedRun, end: LoopEnd, emit: (e: TrainEvent) => void): Promise<TrainResult> {
  const { options, model, dataset, h, metrics } = run;
  const lastLoss = metrics.length ? metrics[metrics.length - 1].loss : NaN;

  if (end.step < run.totalSteps) {
    // stopped early: keep everything needed to continue
    await writeCheckpoint(run.ckptDir, model, run.trainer, run.users, checkpointState(run, end.step, end.trainSeconds));
    emit({ type: 'checkpoint', dir: run.ckptDir, step: end.step });
    const summary = runSummary(run, end, { trainLoss: lastLoss, validLossBefore: run.validLossBefore }, []);
    return { out: options.out, summary, interrupted: true, checkpoint: run.ckptDir };
  }

  // -- the trained weights, before anything else can fail
  try {
    await model.save(options.out, { force: options.force });
  } catch (err) {
    // e.g. a file the user put into --out during training: the weights go into a
    // checkpoint at the last step, from which --resume only writes the model
    throw await keepProgress(run, end.step, end.trainSeconds, err, emit);
  }
  emit({ type: 'weights', dir: options.out });
  try {
    await removeCheckpoint(run.ckptDir);
  } catch (err) {
    // a file of the user's in it keeps it: say so, but the run did not fail
    emit({ type: 'note', message: `the checkpoint ${run.ckptDir} was left in place: ${(err as Error).message}` });
  }

  try {
    // -- after training: validation, samples, the card and the run record
    const final: RunSummary['final'] = { trainLoss: lastLoss, validLossBefore: run.validLossBefore };
    if (dataset.stats.validBlocks > 0) {
      final.validLoss = await meanLoss(model, dataset.validBlocks, h.blockSize, h.batchSize);
      final.validPerplexity = Math.exp(final.validLoss);
      if (metrics.length) metrics[metrics.length - 1].validLoss = final.validLoss;
      emit({ type: 'validation', when: 'after', loss: final.validLoss, perplexity: final.validPerplexity });
    }
    const prompt = options.samplePrompt ?? SAMPLING_DEFAULTS.prompt;
    const nSamples = options.samples ?? TRAIN_DEFAULTS.samples;
    const texts = nSamples > 0 ? await samplePosts(model, run.tokenizer, prompt, { n: nSamples, seed: h.seed, allowNewlines: options.allowNewlines }) : [];
    const samples = texts.map((text) => ({ prompt, text }));
    emit({ type: 'samples', samples });

    const summary = runSummary(run, end, final, samples);
    const postsJsonl = run.users.flatMap((u) => u.posts.map((p) => JSON.stringify(p))).join('\n') + '\n';
    // into the model folder now in place, each file written whole (run-record.ts, writeFileIntoOutput)
    summary.hashes = await writeRunRecord(join(options.out, RUN_RECORD_DIR), summary, {
      postsJsonl,
      trainText: dataset.trainText,
      validText: dataset.validText || undefined,
    });
    await syncTree(join(options.out, RUN_RECORD_DIR));
    await writeFileIntoOutput(options.out, 'README.md', renderModelCard(summary));
    emit({ type: 'saved', dir: options.out });
    return { out: options.out, summary, interrupted: false };
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    throw new Error(`the trained model is saved in ${options.out}, but finishing its samples, card or run record failed: ${error.message}`, { cause: error });
  }
}

/** What a checkpoint written after `step` steps records. */
function checkpointState(run: PreparedRun, step: number, trainSeconds: number): CheckpointState {
  return {
    version: CHECKPOINT_VERSION, step, totalSteps: run.totalSteps, hyperparameters: run.h, sources: run.options.sources,
    baseModel: run.baseModel, baseIsRandom: run.baseIsRandom, metrics: run.metrics, validLossBefore: run.validLossBefore,
    trainSeconds, startedAt: run.startedAt,
  };
}

function runSummary(run: PreparedRun, end: LoopEnd, final: RunSummary['final'], samples: Sample[]): RunSummary {
  const { model, dataset } = run;
  return {
    modelName: dataset.stats.name,
    dataset: dataset.stats,
    baseModel: run.baseModel,
    baseIsRandom: run.baseIsRandom,
    model: { ...model.config, parameters: countParameters(model.config) },
    hyperparameters: run.h,
    metrics: run.metrics,
    final,
    samples,
    hashes: {},
    startedAt: run.startedAt,
    finishedAt: new Date().toISOString(),
    trainSeconds: end.trainSeconds,
    tweetsmithVersion: readPackageVersion(),
  };
}
