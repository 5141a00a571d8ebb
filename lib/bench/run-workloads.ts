// Runs the benchmark workloads side by side — tweetsmith's, and PyTorch's when asked
// — each in its own process, and returns their results with the ratios.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { packageRoot } from '../paths.js';
import type { EngineBenchResult, PerplexityResult } from './engine.js';
import type { SamplingWeights } from '../engine/generate.js';
import type { Precision } from '../engine/native.js';
import { PRECISIONS } from '../engine/gpt2.js';
import type { TokenizerBench } from './tokenizer.js';
import type { WorkloadRequest } from './workload-child.js';
import type { DeviceRequest } from '../engine/device.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

export interface BenchOptions {
  size: string;
  threads: number;
  /** where tweetsmith's workloads run (PyTorch's peers run on the CPU) */
  device?: DeviceRequest;
  steps: number;
  /** which workloads: train-1x1024, train-4x64, generate-10x160, weights-perplexity, tokenizer */
  only?: string[];
  /** train LoRA adapters (LORA_DEFAULTS) instead of the whole model in the train workloads */
  lora?: boolean;
  /** training precisions to measure (default both) */
  precisions?: Precision[];
  /** sampling weight formats to measure (default f32, bf16, q8_0) */
  weights?: SamplingWeights[];
  /** a trained model dir for weights-perplexity (default: random weights of `size`) */
  model?: string;
  /** held-out text for weights-perplexity (default: a seeded tweet-like corpus) */
  text?: string;
  compareTorch: boolean;
  torchPython: string;
  log: (line: string) => void;
}

export interface BenchRow {
  workload: string;
  unit: string;
  tweetsmith: number;
  tweetsmithRssMiB?: number;
  peer?: number;
  peerRssMiB?: number;
  peerName?: string;
  /** tweetsmith / peer */
  ratio?: number;
  note?: string;
}

export const WORKLOADS = ['train-1x1024', 'train-4x64', 'generate-10x160', 'weights-perplexity', 'tokenizer'] as const;
/** the sampling formats measured unless asked otherwise (f16 reads as many bytes as bf16) */
export const DEFAULT_BENCH_WEIGHTS: readonly SamplingWeights[] = ['f32', 'bf16', 'q8_0'];

async function inChild<T>(request: WorkloadRequest, log: (line: string) => void): Promise<T> {
  const ts = join(here, 'workload-child.ts');
  const args = existsSync(ts) ? ['--import', 'tsx', ts] : [join(here, 'workload-child.js')];
  const child = run(process.execPath, [...args, JSON.stringify(request)], { cwd: packageRoot, maxBuffer: 1 << 24 });
  child.child.stderr?.on('data', (d: Buffer) => d.toString().split('\n').filter(Boolean).forEach(log));
  try {
    const { stdout } = await child;
    return JSON.parse(stdout.trim().split('\n').pop()!) as T;
  } catch (err) {
    // the kernel's OOM killer ends a workload that outgrows memory with SIGKILL, and says nothing to us
    if ((err as { signal?: string }).signal === 'SIGKILL') {
      throw new Error(
        `the ${request.kind} workload was killed (SIGKILL), most likely by the system for running out of memory ` +
          `(${(totalmem() / 2 ** 30).toFixed(1)} GiB here); try a smaller --size, --lora, or fewer workloads at once`,
      );
    }
    throw err;
  }
}

interface TorchResult {
  tokensPerSecond: number;
  peakRssMiB: number;
  torch: string;
  blas: string;
  error?: string;
}

async function torch(o: BenchOptions, args: string[]): Promise<TorchResult | { error: string }> {
  try {
    const script = join(packageRoot, 'scripts', 'reference', 'bench_torch.py');
    const { stdout } = await run(o.torchPython, [script, ...args, '--size', o.size, '--threads', String(o.threads), '--steps', String(o.steps)], {
      maxBuffer: 1 << 24,
    });
    return JSON.parse(stdout.trim().split('\n').pop()!);
  } catch (err) {
    const e = err as { stdout?: string; message: string };
    const reported = e.stdout ? (JSON.parse(e.stdout.trim().split('\n').pop() || '{}') as { error?: string }).error : undefined;
    return { error: reported ?? `PyTorch is not available (${o.torchPython}: ${e.message.split('\n')[0]}); scripts/reference/setup-torch.sh installs it` };
  }
}

function withPeer(row: BenchRow, peer: TorchResult | { error: string } | undefined, name: (r: TorchResult) => string): BenchRow {
  if (!peer) return row;
  if ('error' in peer && peer.error) return { ...row, note: peer.error };
  const p = peer as TorchResult;
  return { ...row, peer: p.tokensPerSecond, peerRssMiB: p.peakRssMiB, peerName: name(p), ratio: row.tweetsmith / p.tokensPerSecond };
}

function relativeChange(value: number, reference: number): string {
  const percent = 100 * (value / reference - 1);
  return `${percent >= 0 ? '+' : ''}${percent.toPrecision(2)}%`;
}

export async function runBenchmarks(o: BenchOptions): Promise<BenchRow[]> {
  const wanted = (w: string) => !o.only || o.only.includes(w);
  const rows: BenchRow[] = [];
  const torchName = (mode: string) => (r: TorchResult) =>
    `PyTorch ${r.torch} ${mode} (${r.blas.includes('openblas') ? 'OpenBLAS' : r.blas})`;
  for (const [name, batch, block] of [['train-1x1024', 1, 1024], ['train-4x64', 4, 64]] as const) {
    if (!wanted(name)) continue;
    for (const precision of o.precisions ?? PRECISIONS) {
      o.log(`${name} ${precision}: tweetsmith`);
      const ours = await inChild<EngineBenchResult>(
        { kind: 'engine', options: { size: o.size, batch, block, steps: o.steps, threads: o.threads, device: o.device, only: 'train', precision, lora: o.lora } },
        o.log,
      );
      const row: BenchRow = {
        workload: `train ${o.size} ${batch}×${ours.train!.block} ${precision === 'bf16' ? 'mixed bf16' : 'fp32'}${o.lora ? ' LoRA' : ''}`,
        unit: 'tok/s',
        tweetsmith: ours.train!.tokensPerSecond,
        tweetsmithRssMiB: ours.peakRssMiB,
      };
      const bf16 = precision === 'bf16';
      if (o.lora) {
        // the PyTorch peer fine-tunes every weight; a LoRA step is not the same work
        rows.push(o.compareTorch ? { ...row, note: 'no PyTorch LoRA peer (PEFT is not installed here)' } : row);
        continue;
      }
      if (o.compareTorch) o.log(`${name} ${precision}: PyTorch`);
      const peer = o.compareTorch ? await torch(o, ['train', '--batch', String(batch), '--block', String(block), ...(bf16 ? ['--bf16'] : [])]) : undefined;
      rows.push(withPeer(row, peer, torchName(bf16 ? 'bf16 autocast' : 'fp32')));
    }
  }
  if (wanted('generate-10x160')) {
    // PyTorch samples in fp32 or bf16; the other formats are set against its faster bf16
    const peers = new Map<boolean, TorchResult | { error: string } | undefined>();
    for (const weights of o.weights ?? DEFAULT_BENCH_WEIGHTS) {
      o.log(`generate-10x160 ${weights}: tweetsmith`);
      const ours = await inChild<EngineBenchResult>(
        { kind: 'engine', options: { size: o.size, threads: o.threads, device: o.device, only: 'generate', generate: { n: 10, maxLength: 160, promptLength: 4, weights } } },
        o.log,
      );
      const row: BenchRow = {
        workload: `generate ${o.size} 10×${ours.generate!.maxLength} ${weights} weights`,
        unit: 'tok/s',
        tweetsmith: ours.generate!.tokensPerSecond,
        tweetsmithRssMiB: ours.peakRssMiB,
      };
      const bf16 = weights !== 'f32';
      if (o.compareTorch && !peers.has(bf16)) {
        o.log(`generate-10x160 ${bf16 ? 'bf16' : 'fp32'}: PyTorch`);
        peers.set(bf16, await torch(o, ['generate', '--n', '10', '--max-length', '160', ...(bf16 ? ['--bf16'] : [])]));
      }
      rows.push(withPeer(row, peers.get(bf16), torchName(bf16 ? 'bf16 weights' : 'fp32')));
    }
  }
  if (wanted('weights-perplexity')) {
    o.log(`weights-perplexity: ${o.model ?? `random ${o.size} weights`}`);
    const q = await inChild<PerplexityResult>({ kind: 'perplexity', size: o.size, model: o.model, text: o.text, threads: o.threads, device: o.device }, o.log);
    for (const r of q.formats) {
      rows.push({
        workload: `perplexity, ${r.weights} weights (${q.model}; ${q.tokens} held-out tokens)`,
        unit: '',
        tweetsmith: r.perplexity,
        note: r.weights === 'f32' ? undefined : `${relativeChange(r.perplexity, q.formats[0].perplexity)} against f32`,
      });
    }
  }
  if (wanted('tokenizer')) {
    o.log('tokenizer: tweetsmith and gpt-tokenizer');
    const t = await inChild<TokenizerBench & { peakRssMiB: number }>({ kind: 'tokenizer', bytes: 2_000_000, repeats: 5 }, o.log);
    rows.push({
      workload: 'tokenizer encode (cold cache)',
      unit: 'MB/s',
      tweetsmith: t.ours.mbPerSec,
      tweetsmithRssMiB: t.peakRssMiB,
      peer: t.peer?.mbPerSec,
      peerName: t.peer ? t.peerName : undefined,
      ratio: t.ratio,
      note: t.peer ? undefined : 'gpt-tokenizer (a devDependency) is not installed',
    });
  }
  return rows;
}
