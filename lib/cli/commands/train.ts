// `tweetsmith train SOURCE... --base MODEL --out DIR`: the whole pipeline, with
// the original tool's defaults. Ctrl-C or SIGTERM finishes the current step,
// writes a checkpoint and exits; --resume continues from it.
import { Command, InvalidArgumentError } from 'commander';
import { LORA_DEFAULTS, SOURCE_LIMITS, TRAIN_DEFAULTS } from '../../defaults.js';
import { LORA_BASE_TYPES, targetBits, type LoraBaseType } from '../../model/lora-adapter.js';
import { PRECISIONS } from '../../engine/gpt2.js';
import type { Precision } from '../../engine/native.js';
import { SOURCE_SYNTAX } from '../../sources/index.js';
import { SCHEDULES, type ScheduleName } from '../../train/schedule.js';
import { formatRate } from '../../report/format.js';
import { train, type TrainResult } from '../../train/train.js';
import type { DeviceRequest } from '../../engine/device.js';
import { batchCount, DEVICE_HELP, deviceName, fraction, nonNegativeNumber, oneOf, positiveNumber, threadCount, tokenLength, wholeNumber } from '../option-parsers.js';
import { MAX_SEQUENCES } from '../../limits.js';
import { showTrainingProgress } from '../train-progress.js';
import { terminalJson, terminalText } from '../../terminal-text.js';

interface TrainCommandOptions {
  base: string;
  out: string;
  epochs: number;
  lr: number;
  schedule: ScheduleName;
  warmup: number;
  batchSize: number;
  gradAccum: number;
  blockSize?: number;
  maxSteps?: number;
  seed?: number;
  threads?: number;
  device?: DeviceRequest;
  precision: Precision;
  validSplit: number;
  weightDecay: number;
  maxGradNorm: number;
  allowNewlines?: boolean;
  checkpointEvery?: number;
  evalEvery?: number;
  resume?: boolean;
  samples: number;
  maxPosts?: number;
  force?: boolean;
  rateLimitWait: number;
  json?: boolean;
  lora?: boolean;
  loraRank: number;
  loraAlpha: number;
  loraDropout: number;
  loraTargets: string[];
  loraBase?: LoraBaseType;
}

function targetList(value: string): string[] {
  const targets = value.split(',').map((t) => t.trim()).filter(Boolean);
  if (targets.length === 0) throw new InvalidArgumentError('name at least one module: c_attn, c_proj, c_fc');
  try {
    targetBits(targets);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return targets;
}

/** Runs a training run with progress on stderr and Ctrl-C / SIGTERM handling. */
export async function runTrainingFromCli(run: ReturnType<typeof train>, logEvery: number, quiet = false): Promise<TrainResult> {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`\ntweetsmith: ${signal} again: exiting without a checkpoint\n`);
      process.exit(130);
    }
    stopping = true;
    process.stderr.write(`\ntweetsmith: ${signal}: finishing this step, then writing a checkpoint (press Ctrl-C again to quit at once)\n`);
    run.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await showTrainingProgress(run, { logEvery, quiet });
    return await run.result;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The help's summary of TRAIN_DEFAULTS, in words. */
function describeDefaults(): string {
  const d = TRAIN_DEFAULTS;
  const decay = d.schedule === 'constant' ? 'a constant rate' : `${d.schedule} decay to 0`;
  const warmup = d.warmup > 0 ? `${d.warmup * 100}% warm-up` : 'no warm-up';
  const weightDecay = d.weightDecay > 0 ? `weight decay ${d.weightDecay}` : 'no weight decay';
  return (
    `Defaults are the original tool's: ${d.epochs} epochs in the text, lr ${formatRate(d.lr)} with ${decay} and ${warmup},\n` +
    `batch ${d.batchSize}, block size = the model's context, AdamW (${d.beta1}, ${d.beta2}, ${d.eps}, ${weightDecay}), ` +
    `clipping at ${d.maxGradNorm.toFixed(1)}.`
  );
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('Fine-tune GPT-2 on 1 to 3 people\'s posts and write a Hugging Face model directory with its model card')
    .argument('<source...>', 'whose posts (see below)')
    .requiredOption('--out <dir>', 'the model directory to write: new, empty, or a model tweetsmith wrote (replaced once the new one is complete); a folder holding other files is refused')
    .option('--force', 'also replace another kind of tweetsmith output (a dataset, a checkpoint) at --out; never files tweetsmith did not write')
    .option('--base <model>', 'a local model directory or a Hugging Face hub id', 'gpt2')
    .option('--epochs <n>', 'shuffled copies of the data in the training text', wholeNumber(1), TRAIN_DEFAULTS.epochs)
    .option('--lr <rate>', 'peak learning rate', positiveNumber, TRAIN_DEFAULTS.lr)
    .option('--schedule <name>', `learning-rate schedule: ${SCHEDULES.join(', ')}`, oneOf(SCHEDULES), TRAIN_DEFAULTS.schedule)
    .option('--warmup <fraction>', 'linear warm-up, as a fraction of the steps', fraction, TRAIN_DEFAULTS.warmup)
    .option('--batch-size <n>', 'blocks per micro-batch', batchCount, TRAIN_DEFAULTS.batchSize)
    .option('--grad-accum <n>', 'micro-batches per optimizer step', batchCount, TRAIN_DEFAULTS.gradAccum)
    .option('--block-size <n>', "tokens per training block (default: the model's context)", tokenLength(2))
    .option('--max-steps <n>', 'stop after this many optimizer steps', wholeNumber(1))
    .option('--seed <n>', 'seed of the shuffles and samples (default: random, recorded in the run)', wholeNumber(0))
    .option('--threads <n>', 'CPU threads (default: all cores)', threadCount)
    .option('--device <name>', DEVICE_HELP, deviceName)
    .option('--precision <mode>', 'fp32 (exact) or bf16 (mixed: bf16 matrix products, fp32 weights; faster on CPUs with AVX-512)', oneOf(PRECISIONS), TRAIN_DEFAULTS.precision)
    .option('--valid-split <fraction>', 'posts held out for validation loss and perplexity', fraction, TRAIN_DEFAULTS.validSplit)
    .option('--weight-decay <w>', 'AdamW decoupled weight decay', nonNegativeNumber, TRAIN_DEFAULTS.weightDecay)
    .option('--max-grad-norm <n>', 'clip the global gradient norm (0: off)', nonNegativeNumber, TRAIN_DEFAULTS.maxGradNorm)
    .option('--allow-newlines', 'keep line breaks inside posts')
    .option('--checkpoint-every <n>', 'also write a checkpoint every n steps', wholeNumber(1))
    .option('--eval-every <n>', 'with --valid-split: also measure the validation loss every n steps', wholeNumber(1))
    .option('--resume', 'continue an interrupted run from OUT.checkpoint')
    .option('--samples <n>', 'sample posts to write into the model card', wholeNumber(0, MAX_SEQUENCES), TRAIN_DEFAULTS.samples)
    .option('--max-posts <n>', 'read at most this many posts from each network source', wholeNumber(1))
    .option('--rate-limit-wait <minutes>', 'the longest rate-limit wait sat out; a later reset is an error that says when to retry', positiveNumber, SOURCE_LIMITS.maxRateLimitWaitMs / 60_000)
    .option('--json', 'print the run summary as one JSON document on stdout')
    .option('--lora', 'train LoRA adapters, the base frozen; OUT is then an adapter in PEFT\'s layout (tweetsmith merge makes a whole model)')
    .option('--lora-rank <r>', 'with --lora: the adapters\' rank', wholeNumber(1), LORA_DEFAULTS.rank)
    .option('--lora-alpha <alpha>', 'with --lora: the update is scaled by alpha / rank', positiveNumber, LORA_DEFAULTS.alpha)
    .option('--lora-dropout <p>', 'with --lora: dropout on the adapters\' input while training', fraction, LORA_DEFAULTS.dropout)
    .option('--lora-targets <list>', 'with --lora: the modules that get adapters, comma-separated', targetList, [...LORA_DEFAULTS.targets])
    .option(
      '--lora-base <type>',
      `with --lora: store the frozen base's matrices as ${LORA_BASE_TYPES.join(', ')} (bf16/f16: half the weights' memory; ` +
        `default: ${LORA_DEFAULTS.baseType.bf16} with --precision bf16, where the products round them to bf16 anyway, ${LORA_DEFAULTS.baseType.fp32} with fp32)`,
      oneOf(LORA_BASE_TYPES),
    )
    .addHelpText(
      'after',
      `\n${SOURCE_SYNTAX}\n\n${describeDefaults()}\n\n` +
        `The trained weights are written to --out first, then the samples, model card and run report; an error\n` +
        `during training leaves a checkpoint in OUT.checkpoint that --resume continues.\n\n` +
        `Examples:\n  tweetsmith train twitter-archive.zip --base gpt2 --out models/me\n` +
        `  tweetsmith train @alice @bob --out models/alice-bob --valid-split 0.1\n  tweetsmith train @alice --out models/alice --resume\n`,
    )
    .action(async (sources: string[], o: TrainCommandOptions) => {
      if (o.loraBase !== undefined && !o.lora) throw new Error('--lora-base applies to LoRA training only: add --lora');
      const run = train({
        sources,
        base: o.base,
        out: o.out,
        epochs: o.epochs,
        lr: o.lr,
        schedule: o.schedule,
        warmup: o.warmup,
        batchSize: o.batchSize,
        gradAccum: o.gradAccum,
        blockSize: o.blockSize,
        maxSteps: o.maxSteps,
        seed: o.seed,
        threads: o.threads,
        device: o.device,
        precision: o.precision,
        validSplit: o.validSplit,
        weightDecay: o.weightDecay,
        maxGradNorm: o.maxGradNorm,
        allowNewlines: o.allowNewlines,
        checkpointEvery: o.checkpointEvery,
        evalEvery: o.evalEvery,
        resume: o.resume,
        force: o.force,
        samples: o.samples,
        sourceOptions: { maxPosts: o.maxPosts, maxRateLimitWaitMs: o.rateLimitWait * 60_000 },
        lora: o.lora ? { rank: o.loraRank, alpha: o.loraAlpha, dropout: o.loraDropout, targets: o.loraTargets, baseType: o.loraBase } : undefined,
      });
      const result = await runTrainingFromCli(run, TRAIN_DEFAULTS.logEvery);
      if (result.interrupted) {
        process.stderr.write(`tweetsmith: stopped at step ${result.summary.metrics.length}; continue with the same command and --resume\n`);
        process.exitCode = 130;
      } else if (!o.json) {
        for (const s of result.summary.samples) process.stderr.write(`  ${terminalText(s.text, { multiline: o.allowNewlines === true })}\n`);
      }
      if (o.json) {
        const { dataset, metrics, ...rest } = result.summary;
        process.stdout.write(terminalJson({ out: result.out, interrupted: result.interrupted, ...rest, dataset, steps: metrics.length }) + '\n');
      }
    });
}
