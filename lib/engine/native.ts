// Finds and loads the native addon, and types what it exports. Every load
// failure says what is missing and the command that fixes it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { ENGINE_DEFAULTS } from '../defaults.js';
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
  /** adds LoRA adapters (A random from `seed`, B zero) and freezes the base; `targets` is lora_set.h's bitmask */
  enableLora(config: { rank: number; alpha: number; dropout: number; targets: number; base?: 'f32' | 'bf16' | 'f16' }, seed: number): void;
  /** the parameter buffer's bytes, and the block matrices' storage ("f32", "bf16", "f16") */
  weightsInfo(): { bytes: number; baseType: string };
  /** the adapters or their gradients in PEFT's layout, keyed "h.0.attn.c_attn.lora_A.weight"; null without adapters */
  readLora(which: 'param' | 'grad'): Record<string, Float32Array> | null;
  writeLora(name: string, values: Float32Array): void;
  /** W += (alpha/r)·B·A for every adapter, then drops them */
  mergeLora(): Promise<void>;
  /** a loaded adapter's dropout masks follow this seed from now on */
  setLoraDropoutSeed(seed: number): void;
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
  /** with LoRA: AdamW's moments of the adapters (keyed as readLora keys them); null when it trains the whole model */
  loraMoments(): { m: Record<string, Float32Array>; v: Record<string, Float32Array>; steps: number; dropoutRuns: number } | null;
  /** also sets how many dropout masks the model has drawn (each training pass draws its own from the seed and this count) */
  setLoraMoments(m: Record<string, Float32Array>, v: Record<string, Float32Array>, steps: number, dropoutRuns: number): void;
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
  /** frees its KV cache and graphs now, not at garbage collection; done afterwards */
  release(): void;
}

export interface BuildInfo {
  ggmlVersion: string;
  cuda: boolean;
  vulkan: boolean;
  hardwareThreads: number;
  cpu: CpuInfo;
}

/** What the CPU has (checked when the addon loads), and which of the engine's kernels run on it */
export interface CpuInfo {
  avx2: boolean;
  avx512: boolean;
  avx512bf16: boolean;
  fma: boolean;
  amx: boolean;
  neon: boolean;
  /** mixed precision's packed bf16 product (AVX-512) */
  bf16Gemm: boolean;
  /** … by AVX512-BF16's vdpbf16ps (else each bf16 widened to f32) */
  bf16Dot: boolean;
  /** fp32's packed product: by AVX-512, by AVX2 and FMA, or none (ggml's product) */
  f32Gemm: 'avx512' | 'avx2' | null;
  /** q8_0 sampling's packed product (AVX512-VNNI) */
  q8Decode: boolean;
}

export interface NativeAddon {
  Model: new (config: NativeConfig, threads: number, options?: NativeModelOptions) => NativeModel;
  AdamW: new (model: NativeModel, options: NativeAdamWOptions) => NativeAdamW;
  Generator: new (model: NativeModel, prompt: Int32Array, options: NativeSamplingOptions) => NativeGenerator;
  buildInfo(): BuildInfo;
  /** every device this addon's backends found, the CPU last */
  devices(): NativeDevice[];
  /** writes a GGUF for llama.cpp (native/engine/gguf_export.cpp) to `path` and fsyncs it */
  exportGGUF(spec: NativeGGUFSpec, path: string): Promise<NativeGGUFResult>;
  /** whether `path` is a GGUF, and the tweetsmith version that wrote it ("" if not tweetsmith's) */
  inspectGGUF(path: string): { isGGUF: boolean; generatorVersion: string };
  /**
   * for tests: the CPU's bf16 product (native/engine/bf16_product.h) on A [m×k] and
   * B [n×k] (row-major; stored transposed where asked); c [n×m], or null where
   * the CPU lacks AVX-512
   */
  bf16ProductCheck(spec: {
    a: Float32Array;
    b: Float32Array;
    m: number;
    n: number;
    k: number;
    aTransposed?: boolean;
    bTransposed?: boolean;
    bBf16?: boolean;
    /** [m], added to every column */
    bias?: Float32Array;
    /** [n×m]: c = into + the product (the in-place accumulation of gradients) */
    into?: Float32Array;
    /** the product times this (without bias or into) */
    scale?: number;
    /** ProductOptions::Causal: 1 masked above the diagonal (with fill), 2 sums k ≤ j, 3 sums k ≥ j */
    causal?: number;
    fill?: number;
    threads?: number;
    /** the f32 product (fp32 training's) instead: no rounding to bf16; null where the CPU lacks AVX-512 */
    f32?: boolean;
  }): Float32Array | null;
  /**
   * for tests: the CPU's product over a LoRA rank (native/engine/low_rank_product.h):
   * A [m×r] (row-major; stored transposed where asked), b [n×r]; c [n×m] = into +
   * scale·B·Aᵀ, or null where the shapes are declined (r past 64)
   */
  lowRankProductCheck(spec: {
    a: Float32Array;
    b: Float32Array;
    m: number;
    n: number;
    r: number;
    aTransposed?: boolean;
    into?: Float32Array;
    scale?: number;
    threads?: number;
  }): Float32Array | null;
  /**
   * for tests: the CPU's sum over tokens of outer products one LoRA rank wide
   * (native/engine/low_rank_product.h): a [n×ma], b [n×mb] (row-major, one row per
   * token); c [mb×ma] = scale·Σ_t a_t ⊗ b_t, or null where both sides pass 64
   */
  /**
   * for tests: the CPU's product of stored bf16 weights with a decode step's few
   * columns (native/engine/bf16_decode.h): w [n×k] (rounded to bf16), x [cols×k]
   * (row-major, one row per column); y [cols×n] (+ bias [n]), or null where the CPU
   * lacks AVX512-BF16
   */
  bf16DecodeCheck(spec: {
    w: Float32Array;
    x: Float32Array;
    n: number;
    k: number;
    cols: number;
    bias?: Float32Array;
    threads?: number;
  }): Float32Array | null;
  lowRankOuterProductsCheck(spec: {
    a: Float32Array;
    b: Float32Array;
    ma: number;
    mb: number;
    n: number;
    scale?: number;
    threads?: number;
  }): Float32Array | null;
  /**
   * for tests: causal self-attention fused on the CPU (native/engine/fused_attention.h),
   * forward and backward: qkv [B][T][3C], dy [B][T][C] → y [B][T][C], dqkv [B][T][3C],
   * with the products' operands in bf16 (or f32 where `f32`), or null where this CPU
   * lacks AVX-512
   */
  fusedAttentionCheck(spec: {
    qkv: Float32Array;
    dy: Float32Array;
    C: number;
    T: number;
    B: number;
    heads: number;
    threads?: number;
    f32?: boolean;
  }): { y: Float32Array; dqkv: Float32Array } | null;
  /** q8_0 sampling's packed product beside ggml's on one matrix (native/engine/q8_decode_check.h), for the tests */
  q8ProductCheck(w: Float32Array, x: Float32Array, K: number, N: number, cols: number, threads: number): Q8ProductCheck;
}

export interface Q8ProductCheck {
  /** whether this CPU ran the packed product (AVX512-VNNI) */
  packed: boolean;
  /** [cols][N] */
  packedProduct: Float32Array | null;
  ggmlProduct: Float32Array;
  /** [N][K]: the q8_0 weights dequantised */
  weights: Float32Array;
}

export interface NativeGGUFSpec {
  config: NativeConfig;
  weightsPath: string;
  type: 'f32' | 'f16' | 'q8_0';
  /** one token per id, in id order (vocab.json's byte-level strings) */
  tokens: string[];
  /** llama.cpp's token types: 1 normal, 3 control, 4 user-defined, 5 unused */
  tokenTypes: Int32Array;
  /** "left right", in rank order */
  merges: string[];
  bosId: number;
  eosId: number;
  name: string;
  generatorVersion: string;
}

export interface NativeGGUFResult {
  bytes: number;
  /** ggml type name → number of tensors written in it */
  tensorTypes: Record<string, number>;
}

// ---------------------------------------------------------------------------
// Finding the binary (docs/PACKAGING.md). Chosen once per process, in order:
//   0. TWEETSMITH_ADDON=/path/to/file.node: that file, always (tests use it);
//      then TWEETSMITH_PREBUILD (node-gyp-build's override), as a local build;
//   1. a local build: a GPU variant (build/cuda, then build/vulkan) when a
//      child-process probe finds a real (non-software) GPU on it and computes a
//      forward pass there; otherwise the CPU build, build/Release;
//   2. otherwise a GPU package, @tweetsmith/<platform>-<arch>-cuda, then -vulkan,
//      when it is installed and passes the same probe;
//   3. otherwise this package's prebuild, prebuilds/<platform>-<arch>/ (node-gyp-build).
// TWEETSMITH_GPU: auto (the default); off (no GPU variant); cuda or vulkan (only
// that kind of GPU variant, taken when it loads, without the probe: for a
// software device, or a probe that is wrong). Probe results are cached (see
// probeCacheFile). Why each candidate was passed over is kept in
// nativeOrigin().notes.

export type GpuKind = 'cuda' | 'vulkan';

/** Where the loaded addon came from, and what was passed over on the way. */
export interface NativeOrigin {
  kind: 'explicit' | 'local-build' | 'gpu-package' | 'prebuild';
  path: string;
  /** the GPU variant chosen ('cuda' or 'vulkan'); undefined for the CPU addon or TWEETSMITH_ADDON */
  gpu?: GpuKind;
  /** the device the probe computed on, "Vulkan0 (AMD Radeon RX 7900 XTX)", when the probe chose this addon */
  probedDevice?: string;
  notes: string[];
}

interface NodeGypBuild {
  resolve(dir: string): string;
}

interface Candidate {
  kind: NativeOrigin['kind'];
  path: string;
  /** how notes name it: a path relative to the package, or the package's name */
  label: string;
  gpu?: GpuKind;
  /** load it only when the probe passes */
  probe: boolean;
}

interface PassedOver {
  gpu?: GpuKind;
  label: string;
  why: string;
  /** the probe found only a software device of this kind */
  software?: boolean;
}

let addon: NativeAddon | undefined;
let origin: NativeOrigin | undefined;
let passedOver: PassedOver[] = [];

export function nativeOrigin(): NativeOrigin | undefined {
  return origin;
}

const GPU_KINDS: GpuKind[] = ['cuda', 'vulkan'];
const GPU_NAMES: Record<GpuKind, string> = { cuda: 'CUDA', vulkan: 'Vulkan' };

/**
 * libgomp reads its spin count once, when the addon loads it, so it is set here
 * first unless the user set it (or OMP_WAIT_POLICY). In a worker thread
 * process.env is the thread's own copy, so there only the process's environment counts.
 */
function boundOpenMpSpin(): void {
  if (process.env.GOMP_SPINCOUNT !== undefined || process.env.OMP_WAIT_POLICY !== undefined) return;
  process.env.GOMP_SPINCOUNT = String(ENGINE_DEFAULTS.openMpSpinCount);
}

export function loadNative(): NativeAddon {
  if (addon) return addon;
  boundOpenMpSpin();
  const require = createRequire(import.meta.url);
  const notes: string[] = [];
  passedOver = [];

  const explicit = process.env.TWEETSMITH_ADDON;
  if (explicit) {
    const path = resolve(explicit);
    try {
      addon = require(path) as NativeAddon;
    } catch (err) {
      throw new Error(`TWEETSMITH_ADDON=${explicit}: the addon does not load: ${firstLine(err)}\n  Unset TWEETSMITH_ADDON to let tweetsmith choose its engine.`);
    }
    origin = { kind: 'explicit', path, notes };
    return addon;
  }

  const nodeGypBuild = require('node-gyp-build') as NodeGypBuild;
  let ownPath: string | undefined;
  try {
    ownPath = nodeGypBuild.resolve(packageRoot);
  } catch (err) {
    notes.push(firstLine(err));
  }
  // TWEETSMITH_PREBUILD (node-gyp-build's override) names a binary on purpose: it counts as local.
  const named = !!process.env.TWEETSMITH_PREBUILD;
  const local = ownPath !== undefined && (inside(join(packageRoot, 'build'), ownPath) || named);
  const mode = gpuMode();
  const kinds = named || mode === 'off' ? [] : mode === 'auto' ? GPU_KINDS : [mode];
  const probe = mode === 'auto';

  const localGpu: Candidate[] = [];
  for (const gpu of kinds) {
    const path = join(packageRoot, 'build', gpu, 'Release', 'tweetsmith.node');
    if (existsSync(path)) localGpu.push({ kind: 'local-build', path, label: relative(packageRoot, path), gpu, probe });
  }
  const candidates: Candidate[] = [...localGpu];
  if (ownPath && local) candidates.push({ kind: 'local-build', path: ownPath, label: relative(packageRoot, ownPath), probe: false });
  for (const gpu of kinds) {
    const pkg = gpuPackage(gpu, require, nodeGypBuild, notes);
    if (pkg) candidates.push({ kind: 'gpu-package', path: pkg.path, label: pkg.name, gpu, probe });
  }
  if (ownPath && !local) candidates.push({ kind: 'prebuild', path: ownPath, label: relative(packageRoot, ownPath), probe: false });
  if (mode !== 'auto' && mode !== 'off' && !named && !candidates.some((c) => c.gpu === mode)) {
    notes.push(`TWEETSMITH_GPU=${mode}: no ${GPU_NAMES[mode]} build (build/${mode}/Release) or package (@tweetsmith/${process.platform}-${process.arch}-${mode}) was found`);
  }
  // A GPU variant has the CPU backend too: when nothing else loads, a local one
  // the probe passed over still serves (on the CPU).
  const lastResort = localGpu.filter((c) => c.probe).map((c) => ({ ...c, probe: false }));

  for (const candidate of [...candidates, ...lastResort]) {
    let probedDevice: string | undefined;
    if (candidate.probe) {
      const result = probeGpu(candidate.path);
      if (!result.ok) {
        notes.push(`${candidate.label}: ${result.why}`);
        passedOver.push({ gpu: candidate.gpu, label: candidate.label, why: result.why ?? '', software: result.software });
        continue;
      }
      probedDevice = result.device;
    } else if (lastResort.includes(candidate)) {
      notes.push(`${candidate.label}: used for its CPU backend, since no other build loads`);
    }
    try {
      addon = require(candidate.path) as NativeAddon;
      origin = { kind: candidate.kind, path: candidate.path, notes, ...(candidate.gpu ? { gpu: candidate.gpu } : {}), ...(probedDevice ? { probedDevice } : {}) };
      return addon;
    } catch (err) {
      notes.push(`${candidate.path}: ${firstLine(err)}`);
      passedOver.push({ gpu: candidate.gpu, label: candidate.label, why: `does not load: ${firstLine(err)}` });
    }
  }
  throw new Error(notFoundMessage(notes, ownPath !== undefined));
}

/**
 * What to tell a user who asked for a device of `kind` that the loaded addon
 * lacks: which build command or package provides it, and why a candidate of
 * that kind was passed over when one was.
 */
export function missingBackendMessage(kind: GpuKind): string {
  const name = GPU_NAMES[kind];
  const engine = origin
    ? origin.kind === 'explicit'
      ? `TWEETSMITH_ADDON=${origin.path}`
      : inside(packageRoot, origin.path) ? relative(packageRoot, origin.path) : origin.path
    : 'not loaded';
  const has = (() => {
    try {
      return addon?.buildInfo()[kind] === true;
    } catch {
      return false;
    }
  })();
  const pkg = `@tweetsmith/${process.platform}-${process.arch}-${kind}`;
  const needs = kind === 'cuda' ? 'needs the CUDA toolkit with cuBLAS' : 'needs glslc, libvulkan-dev and spirv-headers';
  const build = existsSync(join(packageRoot, '.git')) ? `npm run build:${kind}` : `TWEETSMITH_${kind.toUpperCase()}=1 npm rebuild tweetsmith`;
  const mine = passedOver.filter((p) => p.gpu === kind);
  const provide = `Build one with \`${build}\` (${needs})${mine.some((p) => p.label === pkg) ? '' : `, or install ${pkg}`}.`;
  let message: string;
  if (has) message = `this tweetsmith engine (${engine}) has a ${name} backend, but it found no ${name} device.`;
  else if (mine.length === 0) message = `this tweetsmith engine (${engine}) has no ${name} backend. ${provide}`;
  else {
    message = `this tweetsmith engine (${engine}) has no ${name} backend; the ${name} engine${mine.length > 1 ? 's' : ''} found ${mine.length > 1 ? 'were' : 'was'} passed over:`;
    for (const p of mine) message += `\n  ${p.label}: ${p.why}`;
    message += mine.some((p) => p.software)
      ? `\n  TWEETSMITH_GPU=${kind} loads it anyway, to run on that software device.`
      : `\n  ${provide}`;
  }
  if ((process.env.TWEETSMITH_GPU ?? '').toLowerCase() === 'off') message += '\n  (TWEETSMITH_GPU=off: GPU builds and packages were not considered.)';
  return message;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return !rel.startsWith('..') && !isAbsolute(rel);
}

function gpuMode(): 'auto' | 'off' | GpuKind {
  const wanted = (process.env.TWEETSMITH_GPU ?? 'auto').toLowerCase();
  if (wanted === 'off' || wanted === 'cpu' || wanted === 'false' || wanted === '0') return 'off';
  if (wanted === 'cuda' || wanted === 'vulkan') return wanted;
  return 'auto';
}

function gpuPackage(kind: GpuKind, require: NodeRequire, nodeGypBuild: NodeGypBuild, notes: string[]): { name: string; path: string } | undefined {
  const name = `@tweetsmith/${process.platform}-${process.arch}-${kind}`;
  let dir: string;
  try {
    dir = dirname(require.resolve(`${name}/package.json`, { paths: [packageRoot] }));
  } catch {
    return undefined; // not installed: not worth a note (missingBackendMessage names it)
  }
  try {
    return { name, path: nodeGypBuild.resolve(dir) };
  } catch (err) {
    notes.push(`${name}: ${firstLine(err)}`);
    passedOver.push({ gpu: kind, label: name, why: firstLine(err) });
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// The probe: a child process loads the candidate, lists its devices, takes the
// first GPU that is not a software one, and computes a one-layer model's
// forward pass on it. A crash, a hang, a load failure or no such device passes
// the candidate over, without harm to this process.

interface ProbeResult {
  ok: boolean;
  /** "Vulkan0 (NVIDIA GeForce RTX 4090)" when ok */
  device?: string;
  why?: string;
  software?: boolean;
  /** when it was probed (ms since the epoch) */
  at?: number;
}

// TWEETSMITH_PROBE_TIMEOUT (seconds) changes it: ggml compiles its pipelines for
// the device during the probe, which on a busy machine's software Vulkan takes long.
function probeTimeoutMs(): number {
  const s = Number(process.env.TWEETSMITH_PROBE_TIMEOUT);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 90_000;
}
// A failed probe is asked again after this long: a driver may have been installed.
const FAILED_PROBE_TTL_MS = 24 * 3600_000;
// Environment variables that change which devices a backend sees.
// (TWEETSMITH_PROBE_SOFTWARE=1 lets the probe accept a software device: for
// testing the probe's whole path on lavapipe.)
const DEVICE_ENV = ['GGML_VK_VISIBLE_DEVICES', 'CUDA_VISIBLE_DEVICES', 'VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'GGML_VK_DISABLE_F16', 'GGML_VK_DISABLE_COOPMAT', 'TWEETSMITH_PROBE_SOFTWARE'];

const PROBE_SCRIPT = `
const say = (r) => process.stdout.write('\\n' + JSON.stringify(r) + '\\n');
const first = (e) => String((e && e.message) || e).split('\\n')[0];
const names = { vulkan: 'Vulkan', cuda: 'CUDA' };
let addon;
try { addon = require(process.argv[1]); } catch (e) { say({ ok: false, why: 'does not load: ' + first(e) }); process.exit(0); }
if (typeof addon.devices !== 'function') { say({ ok: false, why: 'its engine cannot list devices (it predates the GPU backends)' }); process.exit(0); }
const gpus = addon.devices().filter((d) => d.backend !== 'cpu');
const real = gpus.find((d) => !d.software || process.env.TWEETSMITH_PROBE_SOFTWARE === '1');
if (!real) {
  if (gpus.length) say({ ok: false, software: true, why: 'only a software ' + (names[gpus[0].backend] || gpus[0].backend) + ' device (' + gpus.map((d) => d.description).join(', ') + ') was found' });
  else say({ ok: false, why: 'no GPU device was found' });
  process.exit(0);
}
const device = real.name + ' (' + real.description + ')';
Promise.resolve()
  .then(() => {
    const model = new addon.Model({ nLayer: 1, nHead: 2, nEmbd: 8, nPositions: 8, vocabSize: 16, layerNormEpsilon: 1e-5 }, 1, { device: real.name });
    return model.initRandom(1).then(() => model.logits(Int32Array.of(1, 2, 3))).then((logits) => { model.dispose(); return logits; });
  })
  .then((logits) => {
    if (logits.length !== 48 || !logits.every(Number.isFinite)) say({ ok: false, why: device + ' computed wrong logits' });
    else say({ ok: true, device });
    process.exit(0);
  }, (e) => { say({ ok: false, why: device + ' failed a forward pass: ' + first(e) }); process.exit(0); });
`;

function runProbe(file: string): ProbeResult & { transient?: boolean } {
  const timeout = probeTimeoutMs();
  const r = spawnSync(process.execPath, ['-e', PROBE_SCRIPT, file], { encoding: 'utf8', timeout, windowsHide: true });
  // The answer is the last JSON line; a crash while tearing down after it does not change it.
  const line = (r.stdout ?? '').trim().split('\n').reverse().find((l) => l.startsWith('{'));
  if (line) {
    try {
      return JSON.parse(line) as ProbeResult;
    } catch {
      // fall through: a crash mid-line
    }
  }
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
    return { ok: false, why: `the device probe did not finish in ${timeout / 1000} s (TWEETSMITH_PROBE_TIMEOUT sets the limit)`, transient: true };
  }
  const stderr = (r.stderr ?? '').trim().split('\n').filter(Boolean).pop();
  const how = r.signal ? `was killed by ${r.signal}` : `exited with status ${r.status}`;
  return { ok: false, why: `the device probe crashed (it ${how}${stderr ? `: ${stderr}` : ''})` };
}

/** The probe cache: (XDG_CACHE_HOME or ~/.cache)/tweetsmith/native-probe.json. */
export function probeCacheFile(): string {
  const base = process.env.XDG_CACHE_HOME || (process.platform === 'win32' && process.env.LOCALAPPDATA) || join(homedir(), '.cache');
  return join(base, 'tweetsmith', 'native-probe.json');
}

function probeKey(file: string): string | undefined {
  try {
    const st = statSync(file);
    return JSON.stringify([file, st.size, Math.round(st.mtimeMs), ...DEVICE_ENV.map((k) => process.env[k] ?? null)]);
  } catch {
    return undefined;
  }
}

function readProbeCache(): Record<string, ProbeResult> {
  try {
    const data = JSON.parse(readFileSync(probeCacheFile(), 'utf8')) as { version?: number; entries?: Record<string, ProbeResult> };
    return data.version === 1 && data.entries && typeof data.entries === 'object' ? data.entries : {};
  } catch {
    return {};
  }
}

// Best effort: an unwritable cache means probing again next time.
function writeProbeCache(key: string, result: ProbeResult): void {
  try {
    const entries = { ...readProbeCache(), [key]: result };
    const keep = Object.entries(entries).sort((a, b) => (b[1].at ?? 0) - (a[1].at ?? 0)).slice(0, 32);
    const file = probeCacheFile();
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: 1, entries: Object.fromEntries(keep) }, null, 1) + '\n');
    renameSync(tmp, file);
  } catch {
    // no cache
  }
}

function probeGpu(file: string): ProbeResult {
  const key = probeKey(file);
  if (key) {
    const hit = readProbeCache()[key];
    if (hit && typeof hit.ok === 'boolean' && (hit.ok || Date.now() - (hit.at ?? 0) < FAILED_PROBE_TTL_MS)) return hit;
  }
  const { transient, ...result } = runProbe(file);
  if (key && !transient) writeProbeCache(key, { ...result, at: Date.now() });
  return result;
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
