// The training step: forward + backward over a batch (split into micro-batches
// when accumulating gradients), then global-norm clipping and AdamW, all in the
// engine. The learning rate is given per step: the schedule lives in the caller.
import { TRAIN_DEFAULTS } from '../defaults.js';
import { readSafetensors, writeSafetensors } from '../model/safetensors.js';
import { loadNative, type NativeAdamW, type NativeModel } from './native.js';

export interface TrainerOptions {
  /** learning rate used when a step does not give one (default: TRAIN_DEFAULTS.lr, the original tool's) */
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** decoupled weight decay on matrices and embeddings, not biases or LayerNorm (default: TRAIN_DEFAULTS.weightDecay) */
  weightDecay?: number;
  /** clip the global gradient norm to this (default: TRAIN_DEFAULTS.maxGradNorm; 0 turns clipping off) */
  maxGradNorm?: number;
  /** split each batch into this many micro-batches, one optimizer update per batch (default: TRAIN_DEFAULTS.gradAccum) */
  gradAccum?: number;
}

export interface StepStats {
  loss: number;
  gradNorm: number;
  clipCoef: number;
  /** optimizer updates so far */
  step: number;
}

type Exclusive = <T>(work: (native: NativeModel) => Promise<T>) => Promise<T>;

/** One sequence, or a batch of sequences of equal length, as rows of token ids. */
export type Batch = ArrayLike<number> | ArrayLike<number>[];

function toRows(batch: Batch): ArrayLike<number>[] {
  if (batch.length > 0 && typeof (batch as ArrayLike<unknown>)[0] === 'number') return [batch as ArrayLike<number>];
  const rows = Array.from(batch as ArrayLike<number>[]);
  if (rows.length === 0) throw new Error('the batch is empty');
  rows.forEach((r, i) => {
    if (r.length !== rows[0].length) {
      throw new Error(`every sequence of a batch needs the same length: sequence ${i} has ${r.length} tokens, sequence 0 has ${rows[0].length}`);
    }
  });
  return rows;
}

/** A batch as one row-major Int32Array of B sequences of T tokens. */
export function flattenBatch(batch: Batch): { tokens: Int32Array; T: number; B: number } {
  const rows = toRows(batch);
  const T = rows[0].length;
  const tokens = new Int32Array(rows.length * T);
  rows.forEach((r, b) => tokens.set(Array.from(r), b * T));
  return { tokens, T, B: rows.length };
}

export class Trainer {
  readonly options: Required<TrainerOptions>;
  /** what the last step measured */
  last: StepStats | undefined;
  private readonly adamw: NativeAdamW;

  constructor(
    private readonly native: NativeModel,
    options: TrainerOptions,
    private readonly exclusive: Exclusive,
  ) {
    this.options = {
      lr: TRAIN_DEFAULTS.lr,
      beta1: TRAIN_DEFAULTS.beta1,
      beta2: TRAIN_DEFAULTS.beta2,
      eps: TRAIN_DEFAULTS.eps,
      weightDecay: TRAIN_DEFAULTS.weightDecay,
      maxGradNorm: TRAIN_DEFAULTS.maxGradNorm,
      gradAccum: TRAIN_DEFAULTS.gradAccum,
      ...options,
    };
    const g = this.options.gradAccum;
    if (!Number.isInteger(g) || g < 1) throw new Error(`gradAccum must be a positive integer, got ${g}`);
    this.adamw = new (loadNative().AdamW)(native, this.options);
  }

  /** Trains on one batch and updates the weights; resolves to the batch's mean loss. */
  async step(batch: Batch, options: { lr?: number } = {}): Promise<number> {
    const stats = await this.stepWithStats(batch, options);
    return stats.loss;
  }

  async stepWithStats(batch: Batch, options: { lr?: number } = {}): Promise<StepStats> {
    const { tokens: all, T, B } = flattenBatch(batch);
    const lr = options.lr ?? this.options.lr;
    const accum = this.options.gradAccum;
    if (B % accum !== 0) {
      throw new Error(`a batch of ${B} sequences cannot be split into ${accum} equal micro-batches (gradAccum)`);
    }
    const perMicro = B / accum;
    return this.exclusive(async (native) => {
      native.zeroGrads();
      let lossSum = 0;
      for (let m = 0; m < accum; m++) {
        const tokens = all.subarray(m * perMicro * T, (m + 1) * perMicro * T);
        try {
          lossSum += await native.forwardBackward(tokens, T, perMicro, 1 / accum);
        } catch (err) {
          native.zeroGrads();  // a cancelled or failed step leaves no half-accumulated gradient
          throw err;
        }
      }
      const r = await this.adamw.step(lr);
      this.last = { loss: lossSum / accum, gradNorm: r.gradNorm, clipCoef: r.clipCoef, step: r.step };
      return this.last;
    });
  }

  /** Writes AdamW's moments (two safetensors files); returns the number of updates so far. */
  saveState(firstMomentPath: string, secondMomentPath: string): Promise<number> {
    return this.exclusive(async () => {
      const lora = this.adamw.loraMoments();
      if (!lora) return this.adamw.saveState(firstMomentPath, secondMomentPath);
      // the adapters' moments, named as the adapters are (1-D: only their values matter)
      const asTensors = (values: Record<string, Float32Array>) =>
        new Map(Object.entries(values).map(([name, data]) => [name, { shape: [data.length], data }]));
      await writeSafetensors(firstMomentPath, asTensors(lora.m));
      await writeSafetensors(secondMomentPath, asTensors(lora.v));
      return lora.steps;
    });
  }

  loadState(firstMomentPath: string, secondMomentPath: string, steps: number): Promise<void> {
    return this.exclusive(async () => {
      if (!this.adamw.loraMoments()) return this.adamw.loadState(firstMomentPath, secondMomentPath, steps);
      const read = async (file: string) => Object.fromEntries([...(await readSafetensors(file))].map(([name, t]) => [name, t.data]));
      // every step ran gradAccum training passes, each drawing its own dropout masks
      this.adamw.setLoraMoments(await read(firstMomentPath), await read(secondMomentPath), steps, steps * this.options.gradAccum);
    });
  }
}
