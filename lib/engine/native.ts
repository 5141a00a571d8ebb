// Finds and loads the native addon, and types what it exports. Every load
// failure says what is missing and the command that fixes it.
import { createRequire } from 'node:module';
import { packageRoot } from '../paths.js';

/** The numbers of a GPT-2's shape that change the math (GPT2Config adds the special token ids). */
export interface NativeConfig {
  nLayer: number;
  nHead: number;
  nEmbd: number;
  nPositions: number;
  vocabSize: number;
  layerNormEpsilon: number;
}

export interface NativeModel {
  initRandom(seed: number): Promise<void>;
  load(safetensorsPath: string): Promise<void>;
  save(safetensorsPath: string): Promise<void>;
  logits(tokens: Int32Array): Promise<Float32Array>;
  forwardBackward(tokens: Int32Array, T: number, B: number, scale: number): Promise<number>;
  loss(tokens: Int32Array, T: number, B: number): Promise<number>;
  zeroGrads(): void;
  readTensors(which: 'param' | 'grad'): Record<string, Float32Array>;
  writeTensor(name: string, values: Float32Array): void;
  setThreads(n: number): void;
  cancel(): void;
  dispose(): void;
}

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
  hardwareThreads: number;
  cpu: Record<string, boolean>;
}

export interface NativeAddon {
  Model: new (config: NativeConfig, threads: number) => NativeModel;
  AdamW: new (model: NativeModel, options: NativeAdamWOptions) => NativeAdamW;
  Generator: new (model: NativeModel, prompt: Int32Array, options: NativeSamplingOptions) => NativeGenerator;
  buildInfo(): BuildInfo;
}

let addon: NativeAddon | undefined;

export function loadNative(): NativeAddon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  try {
    addon = require('node-gyp-build')(packageRoot) as NativeAddon;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(
      `tweetsmith's native engine is not built for this platform (${process.platform}-${process.arch}, Node ${process.versions.node}).\n` +
        `  ${why.split('\n')[0]}\n` +
        `  Build it from source with: npm run build:native   (needs cmake >= 3.18, a C++17 compiler and git)`,
    );
  }
  return addon;
}
