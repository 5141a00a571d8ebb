// Runs the benchmark workloads side by side — tweetsmith's, and PyTorch's when asked
// — each in its own process, and returns their results with the ratios.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { packageRoot } from '../paths.js';
import type { EngineBenchResult } from './engine.js';
import type { TokenizerBench } from './tokenizer.js';
import type { WorkloadRequest } from './workload-child.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

export interface BenchOptions {
  size: string;
  threads: number;
  steps: number;
  /** which workloads: train-1x1024, train-4x64, generate-10x160, tokenizer */
  only?: string[];
  compareTorch: boolean;
  torchPython: string;
  log: (line: string) => void;
}

export interface BenchRow {
  workload: string;
  unit: string;
  tweetsmith: number;
  tweetsmithRssMiB: number;
  peer?: number;
  peerRssMiB?: number;
  peerName?: string;
  /** tweetsmith / peer */
  ratio?: number;
  note?: string;
}

export const WORKLOADS = ['train-1x1024', 'train-4x64', 'generate-10x160', 'tokenizer'] as const;

async function inChild<T>(request: WorkloadRequest, log: (line: string) => void): Promise<T> {
  const ts = join(here, 'workload-child.ts');
  const args = existsSync(ts) ? ['--import', 'tsx', ts] : [join(here, 'workload-child.js')];
  const child = run(process.execPath, [...args, JSON.stringify(request)], { cwd: packageRoot, maxBuffer: 1 << 24 });
  child.child.stderr?.on('data', (d: Buffer) => d.toString().split('\n').filter(Boolean).forEach(log));
  const { stdout } = await child;
  return JSON.parse(stdout.trim().split('\n').pop()!) as T;
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

export async function runBenchmarks(o: BenchOptions): Promise<BenchRow[]> {
  const wanted = (w: string) => !o.only || o.only.includes(w);
  const rows: BenchRow[] = [];
  const torchName = (r: TorchResult) => `PyTorch ${r.torch} fp32 (${r.blas.includes('openblas') ? 'OpenBLAS' : r.blas})`;
  for (const [name, batch, block] of [['train-1x1024', 1, 1024], ['train-4x64', 4, 64]] as const) {
    if (!wanted(name)) continue;
    o.log(`${name}: tweetsmith`);
    const ours = await inChild<EngineBenchResult>({ kind: 'engine', options: { size: o.size, batch, block, steps: o.steps, threads: o.threads, only: 'train' } }, o.log);
    const row: BenchRow = {
      workload: `train ${o.size} ${batch}×${ours.train!.block} fp32`,
      unit: 'tok/s',
      tweetsmith: ours.train!.tokensPerSecond,
      tweetsmithRssMiB: ours.peakRssMiB,
    };
    if (o.compareTorch) o.log(`${name}: PyTorch`);
    rows.push(withPeer(row, o.compareTorch ? await torch(o, ['train', '--batch', String(batch), '--block', String(block)]) : undefined, torchName));
  }
  if (wanted('generate-10x160')) {
    o.log('generate-10x160: tweetsmith');
    const ours = await inChild<EngineBenchResult>({ kind: 'engine', options: { size: o.size, threads: o.threads, only: 'generate' } }, o.log);
    const row: BenchRow = {
      workload: `generate ${o.size} 10×${ours.generate!.maxLength} fp32`,
      unit: 'tok/s',
      tweetsmith: ours.generate!.tokensPerSecond,
      tweetsmithRssMiB: ours.peakRssMiB,
    };
    if (o.compareTorch) o.log('generate-10x160: PyTorch');
    rows.push(withPeer(row, o.compareTorch ? await torch(o, ['generate', '--n', '10', '--max-length', '160']) : undefined, torchName));
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
