// What the card and the report both say about a run, derived once from the
// summary so the two never disagree: who it is, what the base was, how many
// tokens were trained, and the hyper-parameters as label/value pairs.
import { basename } from 'node:path';
import type { UserStats } from '../data/index.js';
import { formatInt, formatNumber, formatPercent, formatRate } from './format.js';
import type { RunSummary } from '../train/run-summary.js';

export interface RunFacts {
  /** Tokens behind one optimizer step: batch × accumulation × block. */
  tokensPerStep: number;
  /** Optimizer steps actually taken: the last metric row's, or the planned count when nothing was logged. */
  stepsDone: number;
  /** The run stopped before its planned steps (cancelled or crashed). */
  interrupted: boolean;
  tokensTrained: number;
  /** Tokens trained per second of training, when the time is known. */
  tokensPerSecond?: number;
}

export function runFacts(summary: RunSummary): RunFacts {
  const hp = summary.hyperparameters;
  const tokensPerStep = hp.batchSize * hp.gradAccum * hp.blockSize;
  const lastStep = summary.metrics.at(-1)?.step;
  const stepsDone = lastStep ?? hp.steps;
  const tokensTrained = stepsDone * tokensPerStep;
  return {
    tokensPerStep,
    stepsDone,
    interrupted: stepsDone < hp.steps,
    tokensTrained,
    ...(summary.trainSeconds > 0 ? { tokensPerSecond: tokensTrained / summary.trainSeconds } : {}),
  };
}

/** "🤖 AI Bot" for one person, "🤖 AI Cyborg" for several (the original's words). */
export function kindLabel(summary: RunSummary): string {
  return summary.dataset.kind === 'cyborg' ? '🤖 AI Cyborg' : '🤖 AI Bot';
}

/** A person's display name, or their @handle when the source had none. */
export function displayName(user: Pick<UserStats, 'handle' | 'name'>): string {
  const name = user.name?.trim();
  return name ? name : `@${user.handle}`;
}

/** The first character of a name, for an avatar placeholder ("?" when there is none). */
export function initialOf(user: Pick<UserStats, 'handle' | 'name'>): string {
  const name = user.name?.trim() || user.handle;
  const first = Array.from(name)[0];
  return first ? first.toUpperCase() : '?';
}

// The published GPT-2 checkpoints on the Hugging Face hub, under their short
// and their current (organisation) ids: the only bases the card links to and
// names in its front matter, because for them the page is known to exist.
const HUB_GPT2: Record<string, string> = {
  gpt2: 'openai-community/gpt2',
  'gpt2-medium': 'openai-community/gpt2-medium',
  'gpt2-large': 'openai-community/gpt2-large',
  'gpt2-xl': 'openai-community/gpt2-xl',
  distilgpt2: 'distilbert/distilgpt2',
};

/** The hub id of a published GPT-2 base (canonical form), or undefined for anything else. */
export function publishedBase(baseModel: string): string | undefined {
  const id = baseModel.trim();
  if (id in HUB_GPT2) return HUB_GPT2[id];
  return Object.values(HUB_GPT2).includes(id) ? id : undefined;
}

/**
 * How to name the base in a published card: a hub id as it is, a local folder
 * by its last part only, since a full path would publish the trainer's home
 * directory and user name (the run record keeps the full value).
 */
export function baseModelLabel(baseModel: string): string {
  const looksLocal = /^(?:[/~.]|[A-Za-z]:[\\/])/.test(baseModel) || baseModel.includes('\\');
  if (!looksLocal) return baseModel;
  return basename(baseModel.replace(/[\\/]+$/, '').replace(/\\/g, '/')) || baseModel;
}

/** "12 layers, 12 heads, 768-dimensional embeddings, 1,024 positions, 50,257-token vocabulary". */
export function modelShape(model: RunSummary['model']): string {
  return [
    `${model.nLayer} layer${model.nLayer === 1 ? '' : 's'}`,
    `${model.nHead} head${model.nHead === 1 ? '' : 's'}`,
    `${formatInt(model.nEmbd)}-dimensional embeddings`,
    `${formatInt(model.nPositions)} positions`,
    `${formatInt(model.vocabSize)}-token vocabulary`,
  ].join(', ');
}

const SCHEDULES: Record<RunSummary['hyperparameters']['schedule'], string> = {
  cosine: 'cosine decay to 0',
  linear: 'linear decay to 0',
  constant: 'constant',
};

export interface LabelledValue {
  label: string;
  /** Plain text: report.html escapes every value, the card those from outside. */
  value: string;
  /** The value holds text from outside tweetsmith (a device name from a driver), not only our numbers and words. */
  fromOutside?: boolean;
}

/** The hyper-parameter table, in the order a reader checks a run against another. */
export function hyperparameterRows(summary: RunSummary, facts: RunFacts = runFacts(summary)): LabelledValue[] {
  const hp = summary.hyperparameters;
  const steps = facts.interrupted ? `${formatInt(facts.stepsDone)} of ${formatInt(hp.steps)} (interrupted)` : formatInt(hp.steps);
  const device = hp.threads > 0 ? `${hp.device}, ${hp.threads} CPU thread${hp.threads === 1 ? '' : 's'}` : hp.device;
  return [
    { label: 'Epochs (shuffled copies of the data)', value: String(hp.epochs) },
    { label: 'Learning rate', value: formatRate(hp.learningRate) },
    { label: 'Schedule', value: SCHEDULES[hp.schedule] ?? hp.schedule },
    { label: 'Warm-up', value: hp.warmup > 0 ? `${formatPercent(hp.warmup)} of the steps` : 'none' },
    { label: 'Batch size', value: String(hp.batchSize) },
    { label: 'Gradient accumulation', value: String(hp.gradAccum) },
    { label: 'Block size', value: `${formatInt(hp.blockSize)} tokens` },
    {
      label: 'Optimizer',
      value: `AdamW (β1 ${formatNumber(hp.beta1)}, β2 ${formatNumber(hp.beta2)}, ε ${formatNumber(hp.eps)}, weight decay ${formatNumber(hp.weightDecay)})`,
    },
    { label: 'Gradient clipping', value: hp.maxGradNorm > 0 ? `global norm ${formatNumber(hp.maxGradNorm)}` : 'none' },
    { label: 'Optimizer steps', value: steps },
    { label: 'Seed', value: String(hp.seed) },
    { label: 'Device', value: device, fromOutside: true },
    {
      label: 'Precision',
      value: hp.precision === 'bf16' ? 'mixed: bf16 matrix products, fp32 weights, gradients and optimizer state' : 'fp32',
    },
    { label: 'Tokens trained', value: `${formatInt(facts.tokensTrained)} (${formatInt(facts.tokensPerStep)} a step)` },
    ...(hp.lora
      ? [{
          label: 'LoRA',
          value: `rank ${hp.lora.rank}, alpha ${formatNumber(hp.lora.alpha)}, dropout ${formatNumber(hp.lora.dropout)}, on ${hp.lora.targets.join(', ')}; the base's weights frozen, stored as ${hp.lora.baseType ?? 'f32'}`,
        }]
      : []),
  ];
}

/** The sample's whole text: `text` when it already begins with the prompt, else the prompt followed by it. */
export function sampleText(sample: RunSummary['samples'][number]): string {
  return sample.text.startsWith(sample.prompt) ? sample.text : sample.prompt + sample.text;
}
