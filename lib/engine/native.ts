// Finds and loads the native addon, and types what it exports. Every load
// failure says what is missing and the command that fixes it.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { packageRoot } from '../paths.js';
import type { GPT2Shape } from '../model/config.js';

/** What the engine builds a model from: a GPT-2's shape (the model config owns it). */
export type NativeConfig = GPT2Shape;

/** One ggml device the loaded addon can run on (addon.devices()). */
export interface NativeDevice {
  /** ggml's name for it: "CPU", "Vulkan0", "CUDA0"; what `new Model(…, { device })` takes */
  name: string;
  /** the hardware: "AMD Ryzen 9 7950X", "NVIDIA GeForce RTX 4090", "llvmpipe (LLVM 15.0.7, 256 bits)" */
  description: string;
  /** which ggml backend drives it */
  backend: 'cpu' | 'vulkan' | 'cuda' | (string & {});
  /** its position among the devices of its backend (the N of "vulkan:N") */
  index: number;
  /** a GPU emulated on the CPU (Mesa's lavapipe/llvmpipe, SwiftShader): never chosen by "auto" */
  software: boolean;
  /** bytes of device memory free and in all (the CPU reports the machine's) */
  memoryFree: number;
  memoryTotal: number;
}

/** What a model runs on (model.deviceInfo()). */
export interface NativeDeviceInfo {
  /** ggml's device name, "CPU" or "Vulkan0" */
  name: string;
  description: string;
  backend: NativeDevice['backend'];
  /** true: the graphs use standard ggml operations only (every non-CPU device; the CPU when forced) */
  portable: boolean;
  /** operations the device lacks, which ggml's scheduler ran on the CPU instead (seen in the graphs built so far) */
  fallbackOps: string[];
}

export interface NativeModelOptions {
  /** a NativeDevice name (default "CPU") */
  device?: string;
  /** build the portable graphs on the CPU too (tests every backend's path on any machine) */
  portable?: boolean;
}

export interface NativeModel {
  deviceInfo(): NativeDeviceInfo;
  /** logits at every position, computed by cached decoding (prompt, then one token at a time): row-major [T, vocab] */
  cachedLogits(tokens: Int32Array, promptLength: number): Promise<Float32Array>;
  initRandom(seed: number): Promise<void>;
  load(safetensorsPath: string): Promise<void>;
  save(safetensorsPath: string): Promise<void>;
  logits(tokens: Int32Array): Promise<Float32Array>;
  forwardBackward(tokens: Int32Array, T: number, B: number, scale: number): Promise<number>;
  loss(tokens: Int32Array, T: number, B: number, weights?: string): Promise<number>;
  zeroGrads(): void;
  readTensors(which: 'param' | 'grad'): Record<string, Float32Array>;
  writeTensor(name: string, values: Float32Array): void;
  setThreads(n: number): void;
  setPrecision(precision: Precision): void;
  cancel(): void;
  dispose(): void;
}

/** 'fp32': exact fp32; 'bf16': bf16 matrix products with fp32 weights, gradients and optimizer state */
export type Precision = 'fp32' | 'bf16';

export interface NativeAdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  maxGradNorm?: number;
}

export interface NativeAdamW {
  step(lr: number): Promise<{ gradNorm: number; clipCoef: number; step: number }>;
  saveState(mPath: string, vPath: string): number;
  loadState(mPath: string, vPath: string, steps: number): void;
}

export interface NativeSamplingOptions {
  n: number;
  maxLength: number;
  minLength: number;
  temperature: number;
  topP: number;
  topK: number;
  seed: number;
  eosTokenId: number;
}

export interface NativeGenerator {
  step(): Promise<Int32Array>;
  readonly done: boolean;
  readonly length: number;
}

export interface BuildInfo {
  ggmlVersion: string;
  cuda: boolean;
  vulkan: boolean;
  hardwareThreads: number;
  cpu: Record<string, boolean>;
}

export interface NativeAddon {
  Model: new (config: NativeConfig, threads: number, options?: NativeModelOptions) => NativeModel;
  AdamW: new (model: NativeModel, options: NativeAdamWOptions) => NativeAdamW;
  Generator: new (model: NativeModel, prompt: Int32Array, options: NativeSamplingOptions) => NativeGenerator;
  buildInfo(): BuildInfo;
  /** every device this addon's backends found, the CPU last */
  devices(): NativeDevice[];
}

// ---------------------------------------------------------------------------
// Finding the binary (docs/PACKAGING.md). In order:
//   1. a local build, build/Release/*.node (npm run build:native or build:gyp),
//      or the folder TWEETSMITH_PREBUILD names: whoever built it chose its
//      options, so it wins;
//   2. a GPU variant, the optional package @tweetsmith/<platform>-<arch>-cuda,
//      when it is installed and an NVIDIA driver is present (TWEETSMITH_GPU:
//      auto, the default; cuda to try it without a driver check; off);
//   3. this package's prebuild, prebuilds/<platform>-<arch>/ (node-gyp-build).
// A GPU variant that fails to load falls back to 3, and the reason is kept.

/** Where the loaded addon came from, and what was passed over on the way. */
export interface NativeOrigin {
  kind: 'local-build' | 'gpu-package' | 'prebuild';
  path: string;
  notes: string[];
}

interface NodeGypBuild {
  resolve(dir: string): string;
}

let addon: NativeAddon | undefined;
let origin: NativeOrigin | undefined;

export function nativeOrigin(): NativeOrigin | undefined {
  return origin;
}

export function loadNative(): NativeAddon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  const nodeGypBuild = require('node-gyp-build') as NodeGypBuild;
  const notes: string[] = [];

  let ownPath: string | undefined;
  try {
    ownPath = nodeGypBuild.resolve(packageRoot);
  } catch (err) {
    notes.push(firstLine(err));
  }
  // TWEETSMITH_PREBUILD (node-gyp-build's override) names a binary on purpose: it counts as local.
  const local =
    ownPath !== undefined && (!relative(join(packageRoot, 'build'), ownPath).startsWith('..') || !!process.env.TWEETSMITH_PREBUILD);

  const candidates: Array<{ kind: NativeOrigin['kind']; path: string }> = [];
  if (!local) {
    const gpu = gpuPackagePath(require, nodeGypBuild, notes);
    if (gpu) candidates.push({ kind: 'gpu-package', path: gpu });
  }
  if (ownPath) candidates.push({ kind: local ? 'local-build' : 'prebuild', path: ownPath });

  for (const candidate of candidates) {
    try {
      addon = require(candidate.path) as NativeAddon;
      origin = { ...candidate, notes };
      return addon;
    } catch (err) {
      notes.push(`${candidate.path}: ${firstLine(err)}`);
    }
  }
  throw new Error(notFoundMessage(notes, ownPath !== undefined));
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

// The driver's files, not a GPU query: cheap, and enough to decide whether the
// CUDA variant is worth loading (it falls back to the CPU one if it fails).
function nvidiaDriverPresent(): boolean {
  if (process.platform === 'linux') return existsSync('/proc/driver/nvidia/version');
  if (process.platform === 'win32') return existsSync(join(process.env.SystemRoot ?? 'C:\\Windows', 'System32', 'nvcuda.dll'));
  return false;
}

function gpuPackagePath(require: NodeRequire, nodeGypBuild: NodeGypBuild, notes: string[]): string | undefined {
  const wanted = (process.env.TWEETSMITH_GPU ?? 'auto').toLowerCase();
  if (wanted === 'off' || wanted === 'cpu' || wanted === 'false' || wanted === '0') return undefined;
  if (wanted !== 'cuda' && !nvidiaDriverPresent()) return undefined;
  const name = `@tweetsmith/${process.platform}-${process.arch}-cuda`;
  let dir: string;
  try {
    dir = dirname(require.resolve(`${name}/package.json`, { paths: [packageRoot] }));
  } catch {
    notes.push(`${name} is not installed (npm install ${name} adds the CUDA engine)`);
    return undefined;
  }
  try {
    return nodeGypBuild.resolve(dir);
  } catch (err) {
    notes.push(`${name}: ${firstLine(err)}`);
    return undefined;
  }
}

// Says what is missing and the one command that fixes it.
function notFoundMessage(notes: string[], hadBinary: boolean): string {
  const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;
  const libc = process.platform === 'linux' ? (glibc ? `, glibc ${glibc}` : ', musl') : '';
  const where = `${process.platform}-${process.arch} (Node ${process.versions.node}${libc})`;
  const checkout = existsSync(join(packageRoot, '.git'));
  const fix = checkout
    ? `npm run build:native   (in ${packageRoot})`
    : process.platform === 'win32'
      ? '$env:TWEETSMITH_BUILD_FROM_SOURCE=1; npm rebuild tweetsmith   (PowerShell, in the project that installed tweetsmith)'
      : 'TWEETSMITH_BUILD_FROM_SOURCE=1 npm rebuild tweetsmith   (in the project that installed tweetsmith)';
  const what = hadBinary
    ? `tweetsmith's native engine does not load on ${where}.`
    : `tweetsmith's native engine is not built for ${where}: there is no prebuilt binary for it in ${packageRoot} and no local build.`;
  return (
    `${what}\n` +
    notes.map((n) => `  ${n}\n`).join('') +
    `  Build it from source with:\n    ${fix}\n` +
    '  That needs cmake >= 3.18, a C++17 compiler and git (without cmake it uses node-gyp: python3, make, a C++17 compiler).'
  );
}
