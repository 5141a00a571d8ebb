// What a training run needs in memory, estimated before the big allocations (the
// gradients, AdamW's moments and the step's activations), and whether the machine
// has it. A run that cannot fit fails at once with the numbers, rather than
// swapping for an hour or being killed by the OOM killer mid-run.
//
// The estimate follows the engine: fp32 weights (4 bytes each; a frozen LoRA base
// stored as bf16 or f16 takes 2 for its block matrices); full fine-tuning
// adds their gradients and AdamW's two moments (12 bytes more per weight); LoRA
// adds 16 bytes per adapter weight (the value, its gradient, two moments) and
// nothing for the frozen base. The activations a step keeps for its backward
// pass, per layer and token, are ~26 vectors of the model's width (LayerNorm
// inputs and outputs, q/k/v and their head copies, the MLP's 4×-wide input and
// output, the residual sums) plus two attention rows (scores and probabilities)
// per head; the output layer keeps the logits and their gradient (3 vocabulary-wide
// rows per token) and, on the CPU, a padded copy of wte and its transpose; the
// backward pass needs about one more layer's worth of temporaries and transposed
// copies of the largest matrix. That count is an upper bound: the engine frees or
// reuses some of those tensors within a step. Measured (bench --size S --only
// train-1x1024 --precision fp32 --threads 2 [--lora], peak RSS less weights and
// optimizer state), the activations were 0.54–0.58 of it for every GPT-2 size,
// full and LoRA; the check counts ACTIVATION_SHARE of it, a margin above those,
// so that a run which fits (gpt2-large, full, in 24 GiB) is not refused.
import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import type { GPT2Shape } from '../model/config.js';
import { countParameters } from '../model/parameters.js';

const GiB = 2 ** 30;
/** the share of the counted activations a step was measured to hold at most (0.58), with a margin */
const ACTIVATION_SHARE = 0.65;

export interface MemoryEstimate {
  weights: number;
  /** gradients and AdamW's moments: of every weight, or of the adapters only (LoRA) */
  training: number;
  activations: number;
  /** bytes still to allocate once the weights are loaded: training + activations */
  toAllocate: number;
  total: number;
}

export interface RunShape {
  batchSize: number;
  blockSize: number;
  lora?: { rank: number; dropout: number; targets: readonly string[]; baseType?: string };
}

/** The block matrices' weights (c_attn 3C², attn.c_proj C², c_fc 4C², mlp.c_proj 4C² per layer): what a bf16 or f16 base narrows. */
function blockMatrixWeights(c: GPT2Shape): number {
  return c.nLayer * 12 * c.nEmbd * c.nEmbd;
}

function adapterWeights(c: GPT2Shape, lora: NonNullable<RunShape['lora']>): number {
  const C = c.nEmbd, r = lora.rank;
  const has = (m: string) => lora.targets.some((t) => m === t || m.endsWith(`.${t}`));
  let perLayer = 0;
  if (has('attn.c_attn')) perLayer += r * (C + 3 * C);
  if (has('attn.c_proj')) perLayer += r * (C + C);
  if (has('mlp.c_fc')) perLayer += r * (C + 4 * C);
  if (has('mlp.c_proj')) perLayer += r * (4 * C + C);
  return c.nLayer * perLayer;
}

export function estimateTrainingMemory(c: GPT2Shape, run: RunShape): MemoryEstimate {
  const P = countParameters(c);
  const C = c.nEmbd, T = run.blockSize, N = run.batchSize * T, V = c.vocabSize, H = c.nHead;
  const Vp = Math.ceil(V / 64) * 64;
  const narrowBase = run.lora?.baseType === 'bf16' || run.lora?.baseType === 'f16';
  const weights = 4 * P - (narrowBase ? 2 * blockMatrixWeights(c) : 0);
  const training = run.lora ? 16 * adapterWeights(c, run.lora) : 12 * P;
  const perLayer = N * (26 * C + 2 * H * T);
  const dropoutMasks = run.lora && run.lora.dropout > 0 ? c.nLayer * N * 7 * C : 0;
  const output = 3 * Vp * N + 2 * Vp * C;
  const largestMatrix = Math.max(4 * C * C, Vp * C);
  const activations = Math.ceil(ACTIVATION_SHARE * 4 * ((c.nLayer + 1) * perLayer + dropoutMasks + output + 2 * largestMatrix));
  return { weights, training, activations, toAllocate: training + activations, total: weights + training + activations };
}

/** Memory the system can give without swapping: /proc/meminfo's MemAvailable, else os.freemem(). */
export function availableMemory(): number {
  try {
    const match = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux
  }
  return freemem();
}

const gib = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;

/**
 * Throws when the rest of a run (after its weights are loaded) would not fit in
 * `available` bytes, saying what it needs and what would make it fit.
 */
export function checkTrainingFits(c: GPT2Shape, run: RunShape, available: number, device = 'this machine'): MemoryEstimate {
  const e = estimateTrainingMemory(c, run);
  if (e.toAllocate <= available) return e;
  const hints: string[] = [];
  if (!run.lora) {
    const lora = estimateTrainingMemory(c, { ...run, lora: { rank: 8, dropout: 0, targets: ['c_attn', 'c_proj', 'c_fc'] } });
    hints.push(`--lora (about ${gib(lora.toAllocate)}: the base frozen, no gradients or optimizer state for it)`);
  }
  if (run.batchSize > 1) hints.push('a smaller --batch-size with --grad-accum');
  if (run.blockSize > 128) hints.push('a smaller --block-size');
  throw new Error(
    `this run needs about ${gib(e.toAllocate)} more memory than the loaded weights (${gib(e.training)} for ` +
      `${run.lora ? "the adapters' gradients and AdamW state" : 'gradients and AdamW state'}, ${gib(e.activations)} for a step's activations), ` +
      `but ${device} has ${gib(available)} available. Try ${hints.join(', or ') || 'a machine with more memory'}.`,
  );
}
