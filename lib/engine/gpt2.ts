// GPT2: the user-facing model object over the native engine (load, init, save,
// logits, gradients, a trainer, sampling). One engine call runs at a time per
// model; calls made meanwhile wait their turn.
import { randomInt } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { SAMPLING_DEFAULTS } from '../defaults.js';
import { MAX_THREADS } from '../limits.js';
import {
  configToHF,
  END_OF_TEXT,
  generationConfigToHF,
  GPT2_VOCAB_SIZE,
  presetConfig,
  toNativeConfig,
  validateConfig,
  type GPT2Config,
  type PresetName,
} from '../model/config.js';
import {
  copyTokenizerFiles,
  readModelConfig,
  weightsPath,
  WEIGHTS_FILE,
  writeJson,
  CONFIG_FILE,
  GENERATION_CONFIG_FILE,
} from '../model/model-dir.js';
import { locateOutput, writeOutputDir } from '../fs/safe-output.js';
import {
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  adapterConfigJson,
  isAdapterDir,
  locateBase,
  loraBaseType,
  loraSettings,
  PEFT_PREFIX,
  readAdapterConfig,
  targetBits,
  type LoraBaseType,
  type LoraOptions,
  type LoraSettings,
} from '../model/lora-adapter.js';
import { readSafetensors, writeSafetensors } from '../model/safetensors.js';
import { resolveModel } from '../hub/index.js';
import { writeGpt2TokenizerFiles } from '../tokenizer/index.js';
import { describeDevice, resolveDevice, type DeviceRequest } from './device.js';
import { loadNative, type NativeDeviceInfo, type NativeModel, type Precision } from './native.js';
import { flattenBatch, Trainer, type Batch, type TrainerOptions } from './trainer.js';
import { generateTokens, type GenerateOptions, type SamplingWeights, type TokenEvent } from './generate.js';

export interface ModelOptions {
  /** CPU threads for the engine (default: every core) */
  threads?: number;
  /**
   * where the engine runs: 'auto' (default: a CUDA GPU, else a hardware Vulkan
   * GPU, else the CPU), 'cpu', 'vulkan', 'cuda', or a GPU by index ('vulkan:1')
   */
  device?: DeviceRequest;
  /**
   * build the portable graphs (standard ggml operations, what every GPU runs) on
   * the CPU too, instead of its fast kernels: for testing that path anywhere.
   * Default: the environment variable TWEETSMITH_PORTABLE=1.
   */
  portable?: boolean;
  /**
   * how training and scoring multiply matrices: 'fp32' (default, exact) or 'bf16'
   * (mixed precision: bf16 products accumulated in fp32, with fp32 weights,
   * gradients and optimizer state; faster where the CPU has AVX-512, most of all with
   * AVX512-BF16)
   */
  precision?: Precision;
  /**
   * loading a LoRA adapter: how its frozen base's block matrices are stored, 'f32',
   * 'bf16' or 'f16' (default LORA_DEFAULTS.baseType for the precision)
   */
  loraBase?: LoraBaseType;
}

/** What the model's weights take (GPT2.weightsInfo()). */
export interface WeightsInfo {
  /** bytes of the engine's parameter buffer */
  bytes: number;
  /** how the block matrices are stored: 'f32', or 'bf16' / 'f16' for a frozen LoRA base */
  baseType: LoraBaseType;
}

export interface InitOptions extends ModelOptions {
  /** the initialisation's seed (default 0) */
  seed?: number;
}

export interface SaveOptions {
  /** a model with LoRA adapters saves only them (PEFT's layout): how adapter_config.json names the base (default: as addLora was told, or the folder it was loaded from) */
  base?: string;
  /** extra fields merged into config.json */
  config?: Record<string, unknown>;
  /** called with the temporary directory before it is put in place, to add files */
  addFiles?: (tmpDir: string) => Promise<void>;
  /**
   * also replace a tweetsmith output of another kind (a dataset, a checkpoint).
   * Nothing tweetsmith did not write is ever replaced: see lib/fs/safe-output.ts.
   */
  force?: boolean;
}

/** What a model runs on (GPT2.deviceInfo()). */
export interface DeviceInfo extends NativeDeviceInfo {
  /** why this device: "asked for", or how 'auto' chose */
  reason: string;
}

// The engine model on the device the options ask for, and why that device.
function newNativeModel(config: GPT2Config, threads: number, options: ModelOptions): { native: NativeModel; reason: string } {
  const { device, reason } = resolveDevice(options.device);
  const portable = options.portable ?? process.env.TWEETSMITH_PORTABLE === '1';
  return { native: new (loadNative().Model)(toNativeConfig(config), threads, { device: device.name, portable }), reason };
}

export const PRECISIONS: readonly Precision[] = ['fp32', 'bf16'];

function checkPrecision(precision: Precision | undefined): Precision {
  if (precision === undefined) return 'fp32';
  if (!PRECISIONS.includes(precision)) throw new Error(`unknown precision "${String(precision)}"; use fp32 or bf16`);
  return precision;
}

/** `threads` checked (1 … MAX_THREADS), or every core. */
export function checkThreads(threads: number | undefined): number {
  if (threads === undefined) return Math.min(availableParallelism(), MAX_THREADS);
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new RangeError(`threads must be a whole number from 1 to ${MAX_THREADS}, got ${String(threads)}`);
  }
  return threads;
}

export function toInt32Tokens(tokens: ArrayLike<number>, what = 'tokens'): Int32Array {
  const out = new Int32Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (!Number.isInteger(t)) throw new TypeError(`${what}[${i}] is not an integer token id: ${t}`);
    out[i] = t;
  }
  return out;
}

export class GPT2 {
  readonly config: GPT2Config;
  /** The directory the model was loaded from, if any (its tokenizer files are kept on save). */
  readonly sourceDir: string | undefined;
  private native: NativeModel | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private threadCount: number;
  private precisionMode: Precision;
  private deviceReason: string;
  private adapters: { settings: LoraSettings; base?: string } | undefined;

  private constructor(config: GPT2Config, engine: { native: NativeModel; reason: string }, threads: number, precision: Precision, sourceDir?: string) {
    this.config = config;
    this.native = engine.native;
    this.deviceReason = engine.reason;
    this.threadCount = threads;
    this.precisionMode = precision;
    this.sourceDir = sourceDir;
  }

  /** CPU threads the engine uses. */
  get threads(): number {
    return this.threadCount;
  }

  /** The device the model runs on: "CPU", or e.g. "Vulkan0 (AMD Radeon RX 7900 XTX)". */
  get device(): string {
    return describeDevice(this.engine().deviceInfo());
  }

  /**
   * The device in detail: its ggml name and backend, whether the graphs are the
   * portable ones, and the operations it lacks that ran on the CPU instead.
   */
  deviceInfo(): DeviceInfo {
    return { ...this.engine().deviceInfo(), reason: this.deviceReason };
  }

  /**
   * Loads a model directory in the Hugging Face layout (config.json +
   * model.safetensors), or a LoRA adapter in PEFT's layout (adapter_config.json +
   * adapter_model.safetensors) with the base it names (a folder, or a hub id).
   * While a save is replacing `dir` (or after one was killed at that instant) the
   * previous model is read from its set-aside copy beside it.
   */
  static async load(dirOrOutput: string, options: ModelOptions = {}): Promise<GPT2> {
    const dir = await locateOutput(dirOrOutput);
    if (isAdapterDir(dir)) return GPT2.loadAdapter(dir, options);
    const { config } = await readModelConfig(dir);
    const file = weightsPath(dir);
    const threads = checkThreads(options.threads);
    const precision = checkPrecision(options.precision);
    // sourceDir is the path as given: save() finds it again, wherever a replacement left it
    return GPT2.open(config, options, threads, precision, (native) => native.load(file), dirOrOutput);
  }

  /** A randomly initialised model, as Hugging Face initialises GPT-2; `config` may be a preset name. */
  static async init(config: PresetName | (Partial<GPT2Config> & Pick<GPT2Config, 'nLayer' | 'nHead' | 'nEmbd'>), options: InitOptions = {}): Promise<GPT2> {
    const full =
      typeof config === 'string'
        ? presetConfig(config)
        : validateConfig({
            nPositions: 1024,
            vocabSize: GPT2_VOCAB_SIZE,
            layerNormEpsilon: 1e-5,
            bosTokenId: END_OF_TEXT,
            eosTokenId: END_OF_TEXT,
            ...config,
          });
    const seed = options.seed ?? 0;
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got ${seed}`);
    const threads = checkThreads(options.threads);
    const precision = checkPrecision(options.precision);
    return GPT2.open(full, options, threads, precision, (native) => native.initRandom(seed));
  }

  private static async loadAdapter(dir: string, options: ModelOptions): Promise<GPT2> {
    const { settings, base } = await readAdapterConfig(dir);
    const file = join(dir, ADAPTER_WEIGHTS_FILE);
    const tensors = await readSafetensors(file).catch((err: Error) => {
      throw new Error(`${dir}: cannot read the adapter's weights (${err.message})`);
    });
    const baseDir = await resolveModel(locateBase(dir, base));
    if (isAdapterDir(baseDir)) throw new Error(`${dir}: its base ${baseDir} is itself an adapter; merge that one first (tweetsmith merge)`);
    const baseType = loraBaseType(options.loraBase, options.precision);
    const model = await GPT2.load(baseDir, options);
    try {
      model.engine().enableLora({ ...settings, targets: targetBits(settings.targets), base: baseType }, 0);
      model.adapters = { settings, base };
      const expected = model.engine().readLora('param') ?? {};
      const seen = new Set<string>();
      for (const [key, t] of tensors) {
        const name = key.startsWith(PEFT_PREFIX) ? key.slice(PEFT_PREFIX.length) : key;
        if (!(name in expected)) {
          throw new Error(`${file}: tensor ${key} is not an adapter of this model's ${settings.targets.join(', ')} with rank ${settings.rank} (adapter_config.json)`);
        }
        if (t.data.length !== expected[name].length) {
          throw new Error(`${file}: tensor ${key} has shape [${t.shape.join(', ')}], which does not fit rank ${settings.rank} on this base`);
        }
        model.engine().writeLora(name, t.data);
        seen.add(name);
      }
      const missing = Object.keys(expected).filter((n) => !seen.has(n));
      if (missing.length) throw new Error(`${file}: ${missing.length} adapter tensor(s) missing, e.g. ${PEFT_PREFIX}${missing[0]}`);
    } catch (err) {
      await model.dispose();
      throw err;
    }
    return model;
  }

  /** The model's LoRA settings, if it has adapters (see addLora). */
  get lora(): LoraSettings | undefined {
    return this.adapters?.settings;
  }

  /**
   * Adds LoRA adapters and freezes the rest: from then on training updates only
   * the adapters (A random from `seed`, B zero, so the model is unchanged until it
   * trains), and every forward pass includes them. `base` is how the saved
   * adapter names its base (default: the folder the model was loaded from).
   */
  addLora(options: LoraOptions & { seed?: number; base?: string } = {}): LoraSettings {
    if (this.adapters) throw new Error('this model already has LoRA adapters');
    const settings = loraSettings(options);
    const seed = options.seed ?? 0;
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got ${seed}`);
    const baseType = loraBaseType(options.baseType, this.precision);
    this.engine().enableLora({ ...settings, targets: targetBits(settings.targets), base: baseType }, seed);
    this.adapters = { settings, base: options.base };
    return settings;
  }

  /** What the weights take in memory, and how the block matrices are stored (see LoraOptions.baseType). */
  weightsInfo(): WeightsInfo {
    const { bytes, baseType } = this.engine().weightsInfo();
    return { bytes, baseType: baseType as LoraBaseType };
  }

  /**
   * Folds the adapters into the weights (W + (alpha/r)·B·A): a plain model again, that
   * computes the same logits. A bf16 or f16 base is widened first: the merged model is f32.
   */
  async mergeLora(): Promise<void> {
    if (!this.adapters) throw new Error('this model has no LoRA adapters to merge');
    await this.exclusive((n) => n.mergeLora());
    this.adapters = undefined;
  }

  // An engine model on the device the options ask for, its weights filled by `fill`.
  private static async open(
    config: GPT2Config,
    options: ModelOptions,
    threads: number,
    precision: Precision,
    fill: (native: NativeModel) => Promise<void>,
    sourceDir?: string,
  ): Promise<GPT2> {
    const engine = newNativeModel(config, threads, options);
    try {
      engine.native.setPrecision(precision);
      await fill(engine.native);
    } catch (err) {
      engine.native.dispose();
      throw err;
    }
    return new GPT2(config, engine, threads, precision, sourceDir);
  }

  private engine(): NativeModel {
    if (!this.native) throw new Error('this model was disposed');
    return this.native;
  }

  /** Runs engine calls one after another, in the order they were made. */
  protected exclusive<T>(work: (native: NativeModel) => Promise<T>): Promise<T> {
    const run = this.queue.then(() => work(this.engine()));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Writes the model directory: config.json, generation_config.json, model.safetensors
   * and the tokenizer files; a model with LoRA adapters writes only them, as PEFT
   * does (adapter_config.json, adapter_model.safetensors), with the tokenizer files.
   * `dir` may be new, empty or a model tweetsmith wrote (replaced once the new one
   * is complete and on disk); anything else is refused.
   */
  async save(dir: string, options: SaveOptions = {}): Promise<void> {
    await writeOutputDir(dir, 'model', { force: options.force }, async (tmp) => {
      await this.writeFiles(tmp, options);
      if (options.addFiles) await options.addFiles(tmp);
    });
  }

  /**
   * Writes the model's files into the existing folder `dir`, with no checks and no
   * staging: for writers that stage their own folder (a checkpoint). Use save().
   */
  async writeFiles(dir: string, options: Pick<SaveOptions, 'config' | 'base'> = {}): Promise<void> {
    if (this.adapters) {
      await this.writeAdapterFiles(dir, options);
    } else {
      await this.exclusive((n) => n.save(join(dir, WEIGHTS_FILE)));
      await writeJson(join(dir, CONFIG_FILE), configToHF(this.config, options.config));
      await writeJson(join(dir, GENERATION_CONFIG_FILE), generationConfigToHF(this.config));
    }
    const copied = this.sourceDir ? await copyTokenizerFiles(await locateOutput(this.sourceDir), dir) : [];
    if (copied.length === 0 && this.config.vocabSize === GPT2_VOCAB_SIZE) await writeGpt2TokenizerFiles(dir);
  }

  /** The adapters in PEFT's layout, naming the base they go with. */
  private async writeAdapterFiles(dir: string, options: Pick<SaveOptions, 'base'>): Promise<void> {
    const adapters = this.adapters!;
    const base = options.base ?? adapters.base ?? (this.sourceDir ? resolve(this.sourceDir) : undefined);
    if (!base) throw new Error('this model was not loaded from a folder: say how the adapter names its base (save(dir, { base }))');
    const values = await this.exclusive(async (n) => n.readLora('param') ?? {});
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    const r = adapters.settings.rank;
    for (const [name, data] of Object.entries(values)) {
      // lora_A.weight [r, in], lora_B.weight [out, r]
      const shape = name.endsWith('.lora_A.weight') ? [r, data.length / r] : [data.length / r, r];
      tensors.set(PEFT_PREFIX + name, { shape, data });
    }
    await writeSafetensors(join(dir, ADAPTER_WEIGHTS_FILE), tensors);
    await writeJson(join(dir, ADAPTER_CONFIG_FILE), adapterConfigJson(adapters.settings, base));
  }

  /** Logits for one sequence: row-major [tokens.length, vocabSize]. */
  logits(tokens: ArrayLike<number>): Promise<Float32Array> {
    const t = toInt32Tokens(tokens);
    return this.exclusive((n) => n.logits(t));
  }

  /**
   * Logits at every position computed as sampling computes them, over a KV cache:
   * the first `promptLength` tokens in one pass, then one token at a time. They
   * equal logits() up to rounding; tests compare the two.
   */
  cachedLogits(tokens: ArrayLike<number>, promptLength: number): Promise<Float32Array> {
    const t = toInt32Tokens(tokens);
    return this.exclusive((n) => n.cachedLogits(t, promptLength));
  }

  /**
   * The loss GPT2LMHeadModel(input_ids, labels=input_ids) computes for one
   * sequence, and its gradient for every parameter, keyed by Hugging Face name
   * without "transformer." and laid out as in model.safetensors. With LoRA
   * adapters, the gradients of the adapters only (the base is frozen), keyed and
   * laid out as in adapter_model.safetensors without PEFT's prefix.
   */
  lossAndGrads(tokens: ArrayLike<number>): Promise<{ loss: number; grads: Record<string, Float32Array> }> {
    const t = toInt32Tokens(tokens);
    return this.exclusive(async (n) => {
      n.zeroGrads();
      const loss = await n.forwardBackward(t, t.length, 1, 1);
      return { loss, grads: this.adapters ? (n.readLora('grad') ?? {}) : n.readTensors('grad') };
    });
  }

  /**
   * The mean loss over a batch of equal-length sequences (labels = inputs shifted
   * by one), without gradients: for validation. `weights` computes it with the
   * matrices converted as generate() would use them, to measure what a faster
   * sampling format costs in perplexity.
   */
  loss(batch: Batch, options: { weights?: SamplingWeights } = {}): Promise<number> {
    const { tokens, T, B } = flattenBatch(batch);
    return this.exclusive((n) => n.loss(tokens, T, B, options.weights));
  }

  /** Every parameter, keyed and laid out as in model.safetensors. */
  parameters(): Promise<Record<string, Float32Array>> {
    return this.exclusive(async (n) => n.readTensors('param'));
  }

  /** Replaces one parameter (safetensors layout). */
  setParameter(name: string, values: Float32Array): Promise<void> {
    return this.exclusive(async (n) => n.writeTensor(name, values));
  }

  /** The LoRA adapters, keyed and laid out as in adapter_model.safetensors without PEFT's prefix. */
  loraParameters(): Promise<Record<string, Float32Array>> {
    if (!this.adapters) return Promise.reject(new Error('this model has no LoRA adapters'));
    return this.exclusive(async (n) => n.readLora('param') ?? {});
  }

  /** Replaces one adapter matrix (named as loraParameters() names it). */
  setLoraParameter(name: string, values: Float32Array): Promise<void> {
    return this.exclusive(async (n) => n.writeLora(name, values));
  }

  setThreads(threads: number): Promise<void> {
    return this.exclusive(async (n) => {
      n.setThreads(checkThreads(threads));
      this.threadCount = threads;
    });
  }

  /** How training and scoring multiply matrices (see ModelOptions.precision). */
  get precision(): Precision {
    return this.precisionMode;
  }

  async setPrecision(precision: Precision): Promise<void> {
    const checked = checkPrecision(precision);
    return this.exclusive(async (n) => {
      n.setPrecision(checked);
      this.precisionMode = checked;
    });
  }

  /**
   * An AdamW trainer for this model (see Trainer). With `lora` the model first gets
   * adapters (addLora), unless it has them already (a loaded adapter: then only
   * `lora.seed`, the dropout's, applies), and the trainer updates only them.
   */
  trainer(options: TrainerOptions & { lora?: LoraOptions & { seed?: number; base?: string } } = {}): Trainer {
    const { lora, ...rest } = options;
    if (lora && !this.adapters) this.addLora(lora);
    else if (lora?.seed !== undefined && this.adapters) this.engine().setLoraDropoutSeed(lora.seed);
    return new Trainer(this.engine(), rest, (work) => this.exclusive(work));
  }

  /** Samples `n` continuations of the prompt at once; yields each new token as it is chosen. */
  generate(prompt: ArrayLike<number>, options: GenerateOptions = {}): AsyncGenerator<TokenEvent> {
    const seed = options.seed ?? randomInt(2 ** 47);
    // the default length (the original tool's) is cut to a smaller model's context
    const maxLength = options.maxLength ?? Math.min(SAMPLING_DEFAULTS.maxLength, this.config.nPositions);
    return generateTokens(
      this.engine(),
      toInt32Tokens(prompt, 'prompt'),
      { eosTokenId: this.config.eosTokenId, ...options, maxLength, seed },
      (work) => this.exclusive(work),
    );
  }

  /** Stops the engine call that is running (it rejects with an AbortError). */
  cancel(): void {
    this.native?.cancel();
  }

  /** Frees the model's memory now rather than at garbage collection. */
  async dispose(): Promise<void> {
    await this.queue;
    this.native?.dispose();
    this.native = undefined;
  }
}
