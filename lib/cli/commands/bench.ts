// `tweetsmith bench`: training, sampling and tokenizer throughput on a GPT-2
// shaped model with random weights, with peak memory, optionally side by side
// with PyTorch in the same run.
import { Command, Option } from 'commander';
import { availableParallelism } from 'node:os';
import { DEFAULT_BENCH_WEIGHTS, runBenchmarks, WORKLOADS, type BenchRow } from '../../bench/run-workloads.js';
import { PRESETS } from '../../model/config.js';
import { PRECISIONS } from '../../engine/gpt2.js';
import { SAMPLING_WEIGHTS, type SamplingWeights } from '../../engine/generate.js';
import type { Precision } from '../../engine/native.js';
import { defaultDevice, type DeviceRequest } from '../../engine/device.js';
import { DEVICE_HELP, deviceName, oneOf, threadCount, wholeNumber } from '../option-parsers.js';
import { LORA_BASE_TYPES, type LoraBaseType } from '../../model/lora-adapter.js';

interface BenchCommandOptions {
  device?: DeviceRequest;
  size: string;
  threads?: number;
  steps: number;
  only?: string[];
  compare?: string;
  precision: Precision[];
  lora?: boolean;
  loraBase?: LoraBaseType;
  weights: SamplingWeights[];
  model?: string;
  text?: string;
  python: string;
  json?: boolean;
}

/**
 * One line per workload with tweetsmith's figures and its fastest peer, then one line per
 * other peer of that workload; the ratio the goals are about (against the fastest peer)
 * plain, the others in parentheses.
 */
function renderTable(rows: BenchRow[]): string {
  const fmt = (v: number | undefined, digits = 1) => (v === undefined ? '–' : v.toFixed(digits));
  const rss = (v: number | undefined) => (v === undefined ? '–' : `${fmt(v, 0)} MiB`);
  const header = ['workload', 'tweetsmith', 'peak RSS', 'peer', 'peer speed', 'peer RSS', 'ratio'];
  const body = rows.flatMap((r) => {
    const ours = [r.workload, `${fmt(r.tweetsmith, r.unit ? 1 : 3)} ${r.unit}`.trim(), rss(r.tweetsmithRssMiB)];
    const peers = r.peers ?? [];
    if (!peers.length) return [[...ours, '–', '–', '–', '–']];
    return peers.map((p, i) => [
      ...(i === 0 ? ours : ['', '', '']),
      p.name,
      `${fmt(p.value)} ${r.unit}`,
      rss(p.rssMiB),
      i === 0 ? `${p.ratio.toFixed(2)}×` : `(${p.ratio.toFixed(2)}×)`,
    ]);
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  // each peer described once, however many workloads it ran
  const described = new Map(rows.flatMap((r) => (r.peers ?? []).map((p) => [p.name, p.description] as const)));
  const notes = [
    ...(described.size ? ['ratio: tweetsmith / the fastest peer of the workload (in parentheses: against the slower ones)'] : []),
    ...[...described].map(([name, description]) => `${name}: ${description}`),
    ...rows.filter((r) => r.note).map((r) => `${r.workload}: ${r.note}`),
  ];
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line), '', ...notes].join('\n');
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('Measure training, sampling and tokenizer speed (and peak memory), optionally against PyTorch')
    .option('--size <name>', `model shape: ${Object.keys(PRESETS).join(', ')}`, oneOf(Object.keys(PRESETS)), 'gpt2')
    .option('--threads <n>', 'CPU threads (default: all cores)', threadCount)
    .option('--device <name>', `${DEVICE_HELP} (PyTorch's peers run on the CPU)`, deviceName)
    .option('--steps <n>', 'timed training steps per workload (after one warm-up step)', wholeNumber(1), 3)
    .option('--only <workloads...>', `a subset of: ${WORKLOADS.join(', ')}`)
    .option('--lora', 'the train workloads train LoRA adapters (rank 8 on c_attn, c_proj, c_fc) on a frozen base')
    .option('--lora-base <type>', `with --lora: store the frozen base as ${LORA_BASE_TYPES.join(', ')} (default: bf16 under bf16 precision, f32 under fp32)`, oneOf(LORA_BASE_TYPES))
    .addOption(new Option('--precision <modes...>', 'training precisions to measure').choices(PRECISIONS).default([...PRECISIONS]))
    .addOption(new Option('--weights <formats...>', 'sampling weight formats to measure').choices(SAMPLING_WEIGHTS).default([...DEFAULT_BENCH_WEIGHTS]))
    .option('--model <dir>', 'a trained model to score in weights-perplexity (default: random weights)')
    .option('--text <file>', "held-out text for weights-perplexity, e.g. a run's run/valid.txt (default: a seeded tweet-like corpus)")
    .option('--compare <peer>', 'run the same workloads in PyTorch too, in this run: torch (training: the hf-style and fast peers; q8_0 sampling: bf16 and int8 peers; each ratio against the fastest)', oneOf(['torch'] as const))
    .option('--python <path>', 'the Python with PyTorch (Debian: /usr/bin/python3)', '/usr/bin/python3')
    .option('--json', 'print the results as JSON on stdout')
    .addHelpText('after', '\nExamples:\n  tweetsmith bench\n  tweetsmith bench --compare torch --threads 2\n  tweetsmith bench --size tiny --only train-4x64 tokenizer --json\n  tweetsmith bench --size gpt2-medium --only train-1x1024 --precision fp32 --lora\n')
    .action(async (o: BenchCommandOptions) => {
      for (const w of o.only ?? []) {
        if (!(WORKLOADS as readonly string[]).includes(w)) throw new Error(`unknown workload "${w}"; choose from ${WORKLOADS.join(', ')}`);
      }
      const threads = o.threads ?? availableParallelism();
      const rows = await runBenchmarks({
        size: o.size,
        threads,
        device: o.device,
        steps: o.steps,
        only: o.only,
        precisions: o.precision,
        lora: o.lora,
        loraBase: o.loraBase,
        weights: o.weights,
        model: o.model,
        text: o.text,
        compareTorch: o.compare === 'torch',
        torchPython: o.python,
        log: (line) => process.stderr.write(`${line}\n`),
      });
      if (o.json) process.stdout.write(JSON.stringify({ size: o.size, threads, device: o.device ?? defaultDevice(), rows }) + '\n');
      else process.stdout.write(`\nGPT-2 ${o.size} shape, random weights, ${threads} threads, device ${o.device ?? defaultDevice()}\n${renderTable(rows)}\n`);
    });
}
