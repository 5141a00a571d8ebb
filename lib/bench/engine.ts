// Engine benchmarks on a GPT-2-shaped model with random weights (no download):
// a training step (forward, backward, clipping, AdamW) and batched sampling.
// Reports medians and the process's peak RSS (so run one workload per process).
import { availableParallelism } from 'node:os';
import { GPT2 } from '../engine/gpt2.js';
import type { Precision } from '../engine/native.js';
import { collectTokens, SAMPLING_WEIGHTS, type SamplingWeights } from '../engine/generate.js';
import { Tokenizer } from '../tokenizer/index.js';
import { makeTokenizerCorpus } from './tokenizer-corpus.js';
import { readFile } from 'node:fs/promises';
import { presetConfig } from '../model/config.js';
import { locateOutput } from '../fs/safe-output.js';
import { modelTokenizer } from '../model/model-tokenizer.js';
import type { DeviceRequest } from '../engine/device.js';
import type { LoraBaseType } from '../model/lora-adapter.js';

export interface EngineBenchOptions {
  size?: string;
  block?: number;
  batch?: number;
  steps?: number;
  threads?: number;
  device?: DeviceRequest;
  precision?: Precision;
  /** train LoRA adapters (LORA_DEFAULTS) on the frozen random base instead of every weight */
  lora?: boolean;
  /** with lora: how the frozen base is stored (default LORA_DEFAULTS.baseType for the precision) */
  loraBase?: LoraBaseType;
  generate?: { n: number; maxLength: number; promptLength: number; weights?: SamplingWeights };
  only?: 'train' | 'generate';
  log?: (line: string) => void;
}

export interface EngineBenchResult {
  size: string;
  threads: number;
  /** the device it ran on (GPT2.device) */
  device: string;
  train?: { block: number; batch: number; precision: Precision; lora: boolean; loraBase?: LoraBaseType; stepSeconds: number[]; medianSeconds: number; tokensPerSecond: number; losses: number[] };
  /** prepareSeconds: a first one-token call, which converts the weights (not in tokensPerSecond) */
  generate?: { n: number; maxLength: number; weights: SamplingWeights; seconds: number; tokensPerSecond: number; prepareSeconds: number };
  peakRssMiB: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchEngine(options: EngineBenchOptions = {}): Promise<EngineBenchResult> {
  const size = options.size ?? 'gpt2';
  const threads = options.threads ?? availableParallelism();
  const config = presetConfig(size);
  const model = await GPT2.init(config, { seed: 0, threads, precision: options.precision, device: options.device });
  const result: EngineBenchResult = { size, threads, device: model.device, peakRssMiB: 0 };

  if (options.only !== 'generate') {
    const block = Math.min(options.block ?? config.nPositions, config.nPositions);
    const batch = options.batch ?? 1;
    const steps = options.steps ?? 3;
    const trainer = model.trainer({ lr: 1e-4, ...(options.lora ? { lora: { seed: 0, baseType: options.loraBase } } : {}) });
    const rows = Array.from({ length: batch }, (_, b) => Array.from({ length: block }, (_, i) => (i * 7919 + b * 104729) % config.vocabSize));
    const stepSeconds: number[] = [];
    const losses: number[] = [];
    for (let s = 0; s < steps + 1; s++) {
      const t0 = process.hrtime.bigint();
      losses.push(await trainer.step(rows));
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (s > 0) stepSeconds.push(seconds); // the first step also plans the graph
      options.log?.(`train step ${s}: ${seconds.toFixed(2)} s, loss ${losses[s].toFixed(4)}${s === 0 ? ' (warm-up, not counted)' : ''}`);
    }
    const m = median(stepSeconds);
    result.train = { block, batch, precision: model.precision, lora: Boolean(options.lora), ...(options.lora ? { loraBase: model.weightsInfo().baseType } : {}), stepSeconds, medianSeconds: m, tokensPerSecond: (block * batch) / m, losses };
  }

  if (options.only !== 'train') {
    const requested = options.generate ?? { n: 10, maxLength: 160, promptLength: 4 };
    const g = { ...requested, maxLength: Math.min(requested.maxLength, config.nPositions) };
    const prompt = Array.from({ length: g.promptLength }, (_, i) => 50256 - i);
    const run = async (maxLength: number) => {
      const t0 = process.hrtime.bigint();
      const sequences = await collectTokens(model.generate(prompt, { n: g.n, maxLength, minLength: maxLength, seed: 1, weights: g.weights }), g.n);
      return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, tokens: sequences.reduce((s, q) => s + q.length, 0) };
    };
    // One token first: it converts the weights to their sampling format, which the
    // model keeps for the next call, as the PyTorch peer converts its model before its
    // clock starts. The timed call then runs the prompt and every decode step.
    const first = await run(g.promptLength + 1);
    const { seconds, tokens } = await run(g.maxLength);
    result.generate = { n: g.n, maxLength: g.maxLength, weights: g.weights ?? 'f32', seconds, tokensPerSecond: tokens / seconds, prepareSeconds: first.seconds };
  }

  await model.dispose();
  result.peakRssMiB = process.resourceUsage().maxRSS / 1024;
  return result;
}

export interface PerplexityResult {
  model: string;
  tokens: number;
  formats: { weights: SamplingWeights; loss: number; perplexity: number }[];
}

/**
 * What each sampling weight format costs in quality: the perplexity of held-out
 * text (`text`, e.g. a training run's run/valid.txt, or else a seeded corpus of
 * tweet-like posts) with the matrices converted as generation would use them,
 * beside f32's.
 */
export async function benchPerplexity(options: { size?: string; model?: string; text?: string; threads?: number; device?: DeviceRequest; blocks?: number }): Promise<PerplexityResult> {
  const model = options.model
    ? await GPT2.load(options.model, { threads: options.threads, device: options.device })
    : await GPT2.init(presetConfig(options.size ?? 'gpt2'), { seed: 0, threads: options.threads, device: options.device });
  try {
    // a model's own tokenizer or a clear error (model-tokenizer.ts): never GPT-2's in place of an unreadable one
    const tokenizer = options.model ? (await modelTokenizer(await locateOutput(options.model), model.config)).tokenizer : Tokenizer.gpt2();
    const T = Math.min(256, model.config.nPositions);
    const text = options.text ? await readFile(options.text, 'utf8') : makeTokenizerCorpus({ bytes: 32 * T, seed: 0x4e1d }).join('\n');
    // a run's text files separate posts with <|endoftext|>, which encode() matches as its token
    const ids = tokenizer.encode(text).filter((id) => id < model.config.vocabSize);
    const B = options.blocks ?? Math.min(16, Math.floor(ids.length / T));
    if (B < 1) throw new Error(`${options.text ?? 'the held-out text'} has ${ids.length} tokens, fewer than one block of ${T}`);
    const rows = Array.from({ length: B }, (_, b) => ids.slice(b * T, (b + 1) * T));
    const formats: PerplexityResult['formats'] = [];
    for (const weights of SAMPLING_WEIGHTS) {
      const loss = await model.loss(rows, { weights });
      formats.push({ weights, loss, perplexity: Math.exp(loss) });
    }
    const scored = options.model ? `model ${options.model}` : `random ${options.size ?? 'gpt2'} weights`;
    return { model: options.text ? `${scored}, text ${options.text}` : scored, tokens: B * (T - 1), formats };
  } finally {
    await model.dispose();
  }
}
