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
import type { LoraBaseType } from '../model/lora-adapter.js';

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
  /** with lora: how the frozen base is stored (default LORA_DEFAULTS.baseType for the precision) */
  loraBase?: LoraBaseType;
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

/** One peer's figure for a workload, measured in the same run. */
export interface PeerResult {
  /** the peer's short name: "fast", "hf-style", "bf16 weights", "int8 dynamic", "gpt-tokenizer" */
  name: string;
  /** what it is: library, version, mode, BLAS */
  description: string;
  value: number;
  rssMiB?: number;
  /** tweetsmith / this peer */
  ratio: number;
}

export interface BenchRow {
  workload: string;
  unit: string;
  tweetsmith: number;
  tweetsmithRssMiB?: number;
  /** every peer measured for this workload, the fastest first */
  peers?: PeerResult[];
  /** the fastest peer's figures (peers[0]): the one the ratio is taken against */
  peer?: number;
  peerRssMiB?: number;
  peerName?: string;
  /** tweetsmith / the fastest peer */
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
  /** the malloc the peer ran with: tcmalloc when installed (bench_torch.py preloads it) */
  allocator?: string;
  error?: string;
}

type TorchOutcome = TorchResult | { error: string };

async function torch(o: BenchOptions, args: string[]): Promise<TorchOutcome> {
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

/** A PyTorch peer of a workload: its short name, what it is, and bench_torch.py's arguments. */
interface TorchPeer {
  name: string;
  mode: string;
  args: string[];
}

/**
 * The row with its peers, the fastest first, and the ratio against the fastest: a goal
 * met against a slower way of writing the same PyTorch model would flatter us. A peer
 * that failed leaves its error in the note.
 */
function withPeers(row: BenchRow, measured: { peer: TorchPeer; outcome: TorchOutcome }[]): BenchRow {
  const errors = [...new Set(measured.flatMap(({ outcome }) => ('error' in outcome && outcome.error ? [outcome.error] : [])))];
  const peers: PeerResult[] = measured
    .filter(({ outcome }) => !('error' in outcome && outcome.error))
    .map(({ peer, outcome }) => {
      const r = outcome as TorchResult;
      const blas = r.blas.includes('openblas') ? 'OpenBLAS' : r.blas;
      const libraries = [blas, r.allocator].filter(Boolean).join(', ');
      return { name: peer.name, description: `PyTorch ${r.torch} (${libraries}): ${peer.mode}`, value: r.tokensPerSecond, rssMiB: r.peakRssMiB, ratio: row.tweetsmith / r.tokensPerSecond };
    })
    .sort((a, b) => b.value - a.value);
  const out: BenchRow = { ...row, ...(errors.length ? { note: errors.join('; ') } : {}) };
  if (!peers.length) return out;
  return { ...out, peers, peer: peers[0].value, peerRssMiB: peers[0].rssMiB, peerName: peers[0].name, ratio: peers[0].ratio };
}

/** bench_torch.py's training peers: the same model and optimizer written two ways. */
function trainPeers(batch: number, block: number, bf16: boolean): TorchPeer[] {
  const common = ['train', '--batch', String(batch), '--block', String(block), ...(bf16 ? ['--bf16'] : [])];
  // (the mode reads the same for both precisions: the row names its precision)
  const autocast = "mixed bf16 under torch.autocast('cpu', bfloat16)";
  return [
    { name: 'fast', mode: `nn.Linear, fused F.gelu(approximate='tanh'), AdamW(foreach=True); ${autocast}`, args: [...common, '--peer', 'fast'] },
    { name: 'hf-style', mode: `Hugging Face's Conv1D and Python-op gelu_new, AdamW; ${autocast}`, args: [...common, '--peer', 'hf-style'] },
  ];
}

/**
 * bench_torch.py's sampling peers of a weight format: fp32 for f32; bf16 weights for
 * f16 and bf16 (PyTorch's CPU kernels for half weights are its bf16 ones); for q8_0,
 * bf16 and dynamic int8 (quantize_dynamic on the linear layers), whichever is faster.
 */
function generatePeers(weights: SamplingWeights): TorchPeer[] {
  const common = ['generate', '--n', '10', '--max-length', '160'];
  const fp32 = { name: 'fp32', mode: 'fp32 weights', args: common };
  const bf16 = { name: 'bf16 weights', mode: 'bf16 weights (oneDNN)', args: [...common, '--bf16'] };
  const int8 = { name: 'int8 dynamic', mode: 'quantize_dynamic int8 linear layers (fbgemm), fp32 activations', args: [...common, '--int8'] };
  return weights === 'f32' ? [fp32] : weights === 'q8_0' ? [bf16, int8] : [bf16];
}

function relativeChange(value: number, reference: number): string {
  const percent = 100 * (value / reference - 1);
  return `${percent >= 0 ? '+' : ''}${percent.toPrecision(2)}%`;
}

export async function runBenchmarks(o: BenchOptions): Promise<BenchRow[]> {
  const wanted = (w: string) => !o.only || o.only.includes(w);
  const rows: BenchRow[] = [];
  // each peer runs once per bench run however many rows it is set against, and one at a
  // time (never two workloads at once: they would share the cores they are timed on)
  const measuredPeers = new Map<string, TorchOutcome>();
  const measure = async (label: string, peers: TorchPeer[]) => {
    const out: { peer: TorchPeer; outcome: TorchOutcome }[] = [];
    for (const peer of peers) {
      const key = peer.args.join(' ');
      if (!measuredPeers.has(key)) {
        o.log(`${label}: PyTorch ${peer.name}`);
        const outcome = await torch(o, peer.args);
        // each figure as it comes, so that a long run stopped early still shows what it measured
        o.log('error' in outcome && outcome.error ? `  ${outcome.error}` : `  ${(outcome as TorchResult).tokensPerSecond.toFixed(1)} tok/s, peak RSS ${(outcome as TorchResult).peakRssMiB.toFixed(0)} MiB`);
        measuredPeers.set(key, outcome);
      }
      out.push({ peer, outcome: measuredPeers.get(key)! });
    }
    return out;
  };
  for (const [name, batch, block] of [['train-1x1024', 1, 1024], ['train-4x64', 4, 64]] as const) {
    if (!wanted(name)) continue;
    for (const precision of o.precisions ?? PRECISIONS) {
      o.log(`${name} ${precision}: tweetsmith`);
      const ours = await inChild<EngineBenchResult>(
        { kind: 'engine', options: { size: o.size, batch, block, steps: o.steps, threads: o.threads, device: o.device, only: 'train', precision, lora: o.lora, loraBase: o.loraBase } },
        o.log,
      );
      const row: BenchRow = {
        workload: `train ${o.size} ${batch}×${ours.train!.block} ${precision === 'bf16' ? 'mixed bf16' : 'fp32'}${o.lora ? ` LoRA (${ours.train!.loraBase} base)` : ''}`,
        unit: 'tok/s',
        tweetsmith: ours.train!.tokensPerSecond,
        tweetsmithRssMiB: ours.peakRssMiB,
      };
      o.log(`  ${row.tweetsmith.toFixed(1)} tok/s, peak RSS ${ours.peakRssMiB.toFixed(0)} MiB`);
      const bf16 = precision === 'bf16';
      if (o.lora) {
        // the PyTorch peer fine-tunes every weight; a LoRA step is not the same work
        rows.push(o.compareTorch ? { ...row, note: 'no PyTorch LoRA peer (PEFT is not installed here)' } : row);
        continue;
      }
      rows.push(o.compareTorch ? withPeers(row, await measure(`${name} ${precision}`, trainPeers(batch, block, bf16))) : row);
    }
  }
  if (wanted('generate-10x160')) {
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
      o.log(`  ${row.tweetsmith.toFixed(1)} tok/s, peak RSS ${ours.peakRssMiB.toFixed(0)} MiB (the weights' conversion before it: ${ours.generate!.prepareSeconds.toFixed(2)} s)`);
      rows.push(o.compareTorch ? withPeers(row, await measure(`generate-10x160 ${weights}`, generatePeers(weights))) : row);
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
      ...(t.peer ? { peers: [{ name: 'gpt-tokenizer', description: t.peerName, value: t.peer.mbPerSec, ratio: t.ratio! }], peer: t.peer.mbPerSec, peerName: 'gpt-tokenizer', ratio: t.ratio } : {}),
      note: t.peer ? undefined : 'gpt-tokenizer (a devDependency) is not installed',
    });
  }
  return rows;
}
