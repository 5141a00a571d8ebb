// Engine benchmarks on a GPT-2-shaped model with random weights (no download):
// a training step (forward, backward, clipping, AdamW) and batched sampling.
// Reports medians and the process's peak RSS. Run directly:
//   node --import tsx scripts/bench-engine.ts [--size gpt2] [--block 1024] [--batch 1] [--steps 3] [--threads N] [--only train|generate]
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { collectTokens, GPT2, presetConfig } from '../lib/index.js';

export interface EngineBenchOptions {
  size?: string;
  block?: number;
  batch?: number;
  steps?: number;
  threads?: number;
  generate?: { n: number; maxLength: number; promptLength: number };
  only?: 'train' | 'generate';
}

export interface EngineBenchResult {
  size: string;
  threads: number;
  train?: { block: number; batch: number; stepSeconds: number[]; medianSeconds: number; tokensPerSecond: number; losses: number[] };
  generate?: { n: number; maxLength: number; seconds: number; tokensPerSecond: number };
  peakRssMiB: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchEngine(options: EngineBenchOptions = {}): Promise<EngineBenchResult> {
  const size = options.size ?? 'gpt2';
  const threads = options.threads ?? availableParallelism();
  const config = presetConfig(size);
  const model = await GPT2.init(config, { seed: 0, threads });
  const result: EngineBenchResult = { size, threads, peakRssMiB: 0 };

  if (options.only !== 'generate') {
    const block = Math.min(options.block ?? config.nPositions, config.nPositions);
    const batch = options.batch ?? 1;
    const steps = options.steps ?? 3;
    const trainer = model.trainer({ lr: 1e-4 });
    const rows = Array.from({ length: batch }, (_, b) => Array.from({ length: block }, (_, i) => (i * 7919 + b * 104729) % config.vocabSize));
    const stepSeconds: number[] = [];
    const losses: number[] = [];
    for (let s = 0; s < steps + 1; s++) {
      const t0 = process.hrtime.bigint();
      losses.push(await trainer.step(rows));
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (s > 0) stepSeconds.push(seconds); // the first step also plans the graph
      process.stderr.write(`  train step ${s}: ${seconds.toFixed(2)} s, loss ${losses[s].toFixed(4)}${s === 0 ? ' (warm-up, not counted)' : ''}\n`);
    }
    const m = median(stepSeconds);
    result.train = { block, batch, stepSeconds, medianSeconds: m, tokensPerSecond: (block * batch) / m, losses };
  }

  if (options.only !== 'train') {
    const g = options.generate ?? { n: 10, maxLength: 160, promptLength: 4 };
    const prompt = Array.from({ length: g.promptLength }, (_, i) => 50256 - i);
    const t0 = process.hrtime.bigint();
    const sequences = await collectTokens(model.generate(prompt, { n: g.n, maxLength: g.maxLength, minLength: g.maxLength, seed: 1 }), g.n);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const tokens = sequences.reduce((s, q) => s + q.length, 0);
    result.generate = { n: g.n, maxLength: g.maxLength, seconds, tokensPerSecond: tokens / seconds };
  }

  await model.dispose();
  result.peakRssMiB = process.resourceUsage().maxRSS / 1024;
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      size: { type: 'string' }, block: { type: 'string' }, batch: { type: 'string' }, steps: { type: 'string' },
      threads: { type: 'string' }, only: { type: 'string' }, json: { type: 'boolean' },
    },
  });
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const r = await benchEngine({
    size: values.size, block: num(values.block), batch: num(values.batch), steps: num(values.steps),
    threads: num(values.threads), only: values.only as EngineBenchOptions['only'],
  });
  if (values.json) console.log(JSON.stringify(r));
  else {
    console.log(`GPT-2 ${r.size}, ${r.threads} threads, random weights`);
    if (r.train) console.log(`train  batch ${r.train.batch} × ${r.train.block}: median step ${r.train.medianSeconds.toFixed(2)} s, ${r.train.tokensPerSecond.toFixed(1)} tok/s`);
    if (r.generate) console.log(`sample ${r.generate.n} × ${r.generate.maxLength}: ${r.generate.seconds.toFixed(2)} s, ${r.generate.tokensPerSecond.toFixed(1)} tok/s`);
    console.log(`peak RSS ${r.peakRssMiB.toFixed(0)} MiB`);
  }
}
