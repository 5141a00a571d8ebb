// The original tool's defaults, written once (pipeline.md §5–7). The CLI's
// option defaults, the Node API (train(), Trainer, GPT2.generate, samplePosts),
// config.json's text-generation block and the model card all read them here,
// and so will the web server. This module imports no value, so every layer may
// depend on it.
import type { ScheduleName } from './train/schedule.js';

/** Object.freeze keeping the fields' types (`number`, not the literal 4). */
function frozen<T extends object>(values: T): Readonly<T> {
  return Object.freeze(values);
}

/** How posts are sampled: Hugging Face's generate() as the original tool called it. */
export const SAMPLING_DEFAULTS = frozen({
  /** how the posts start */
  prompt: 'My dream is',
  /** posts per `tweetsmith generate` (the Node API samples one sequence unless asked for more) */
  n: 10,
  /** total length in tokens, the prompt included, as Hugging Face counts it (cut to a smaller model's context) */
  maxLength: 160,
  /** no end-of-text before this total length */
  minLength: 10,
  /** randomness; 0 always takes the most likely token */
  temperature: 1,
  /** nucleus sampling mass; 1 turns it off */
  topP: 0.95,
  /** keep only the k most likely tokens; 0 turns it off */
  topK: 0,
  /** the weight matrices' format while sampling: the trained fp32 weights as they are */
  weights: 'f32' as const,
});

/** How a run trains: the original's fine-tuning, AdamW with its optimizer settings. */
export const TRAIN_DEFAULTS = frozen({
  /** shuffled copies of the data in the training text */
  epochs: 4,
  /** peak learning rate */
  lr: 1.372e-4,
  /** the learning rate decays from its peak to 0 */
  schedule: 'cosine' as ScheduleName,
  /** linear warm-up, as a fraction of the optimizer steps */
  warmup: 0,
  /** blocks per micro-batch */
  batchSize: 1,
  /** micro-batches per optimizer step */
  gradAccum: 1,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  /** AdamW's decoupled weight decay */
  weightDecay: 0,
  /** clip the global gradient norm to this; 0 turns clipping off */
  maxGradNorm: 1.0,
  /** fraction of each person's posts held out for validation */
  validSplit: 0,
  /** exact fp32 matrix products ('bf16': mixed precision) */
  precision: 'fp32' as const,
  /** a loss line every this many steps */
  logEvery: 5,
  /** sample posts written into the model card */
  samples: 5,
});

/**
 * Bounds on what servers and archives may make tweetsmith wait for or hold
 * (issue 11 §4): each is an option of the reader it bounds, with this default.
 */
export const SOURCE_LIMITS = frozen({
  /** the longest rate-limit wait sat out: X's window is 15 minutes; a reset further away is an error */
  maxRateLimitWaitMs: 15 * 60 * 1000,
  /** a JSON reply from a service (X API, Bluesky, Mastodon) */
  maxJsonReplyBytes: 32 * 1024 * 1024,
  /** one JSON entry of an X archive, uncompressed (big accounts have large tweets.js) */
  maxArchiveEntryBytes: 2 * 1024 * 1024 * 1024,
  /** pages read from one network source: 3,200 posts at 100 a page is 32; a timeline of 100,000 statuses at 40 a page is 2,500 */
  maxPages: 10_000,
});

/** LoRA fine-tuning (`train --lora`): the adapters' shape, as PEFT's LoraConfig names it. */
export const LORA_DEFAULTS = frozen({
  /** r: the adapters' inner dimension */
  rank: 8,
  /** the update is scaled by alpha / rank */
  alpha: 16,
  /** dropout on each adapter's input while training */
  dropout: 0,
  /** GPT-2's modules that get adapters (PEFT's target_modules; "c_proj" is both attention's and the MLP's) */
  targets: Object.freeze(['c_attn', 'c_proj', 'c_fc']) as readonly string[],
  /**
   * How the frozen base's block matrices are stored, by training precision: bf16 under
   * mixed precision, where every product rounds them to bf16 anyway (the same numbers,
   * half the weights' memory); f32 under fp32, which stays exact.
   */
  baseType: Object.freeze({ fp32: 'f32', bf16: 'bf16' } as const),
});

/** `tweetsmith serve`: where it listens, where its runs live, and what one request may ask of it. */
/**
 * What the offline demo trains with (`tweetsmith demo`, and the web app's "tiny from
 * scratch" base): the original's pipeline, with a learning rate for a model that starts from nothing.
 */
export const DEMO_SETTINGS = frozen({
  size: 'tiny' as const,
  lr: 2e-3,
  warmup: 0.05,
  epochs: TRAIN_DEFAULTS.epochs,
  validSplit: 0.1,
  seed: 42,
});

export const SERVE_DEFAULTS = frozen({
  /** the work dir (uploads and runs), relative to where the server starts */
  workDir: 'tweetsmith-runs',
  port: 7860,
  /** loopback only: anything else lets anyone on the network start training */
  host: '127.0.0.1',
  /** an upload past this is refused (413) and its partial file removed: an X archive with its media can be several GB */
  maxUploadBytes: 512 * 1024 * 1024,
  /** a training run also writes a checkpoint every this many steps, so a killed server loses little */
  checkpointEvery: 50,
  /** loaded models kept for generation (each disposed when it leaves the cache) */
  modelCache: 2,
  /** posts one generate request may ask for: the server's CPU is shared with training */
  maxGenerateSamples: 50,
  /** the highest sampling temperature a request may ask for (past a few, the text is noise) */
  maxTemperature: 10,
  /** the longest prompt, in characters */
  maxPromptCharacters: 2000,
});

/** How the native engine runs, where the process environment does not say. */
export const ENGINE_DEFAULTS = frozen({
  /**
   * GOMP_SPINCOUNT: how many times an OpenMP thread (ggml's CPU backend) polls at
   * a barrier before it sleeps in the kernel. libgomp's own default, 300,000
   * (~3 ms), is for a machine that is ours alone: beside another busy process on
   * the same cores a spinning thread burns the slice its partner needs, and two
   * tiny training runs side by side took 19 s instead of 6. At 300 they took 5.4–5.9 s,
   * while a q8_0 decode step alone stays at ~9.6 ms (9.1 at the default, 10.8
   * before the compute thread). Measured on 2 cores, 2026-11-30.
   */
  openMpSpinCount: 300,
});
