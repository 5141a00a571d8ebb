// tweetsmith's public Node API.
export { GPT2, PRECISIONS, type ModelOptions, type InitOptions, type SaveOptions, type WeightsInfo } from './engine/gpt2.js';
export { Trainer, type TrainerOptions, type StepStats, type Batch } from './engine/trainer.js';
export { LORA_BASE_TYPES, type LoraBaseType, type LoraOptions, type LoraSettings } from './model/lora-adapter.js';
export { collectTokens, SAMPLING_WEIGHTS, type GenerateOptions, type TokenEvent, type SamplingWeights } from './engine/generate.js';
export { loadNative, type BuildInfo, type Precision } from './engine/native.js';
export { PRESETS, presetConfig, configFromHF, configToHF, type GPT2Config, type GPT2Shape, type PresetName } from './model/config.js';
export { Tokenizer } from './tokenizer/index.js';
export {
  readSource,
  parseSourceString,
  SOURCE_SYNTAX,
  SourceError,
  type Post,
  type SourcePosts,
  type SourceOptions,
} from './sources/index.js';
export {
  buildDataset,
  collectPosts,
  makeDataset,
  cleanTweet,
  fixText,
  isBoringTweet,
  renderDataTable,
  readDatasetDir,
  type DatasetStats,
} from './data/index.js';
export { OutputRefusedError, locateOutput, type OutputKind, type OutputOptions } from './fs/safe-output.js';
export { replaceFileSafely, type ReplaceFileOptions } from './fs/replace-file.js';
export { DEMO_SETTINGS, LORA_DEFAULTS, SAMPLING_DEFAULTS, SERVE_DEFAULTS, SOURCE_LIMITS, TRAIN_DEFAULTS } from './defaults.js';
export { startServer, type ServeOptions, type RunningServer } from './serve/server.js';
export { train, type TrainOptions, type TrainEvent, type TrainResult, type TrainingRun } from './train/train.js';
export { samplePosts, tweetIntentUrl, DEFAULT_PROMPT, type SampleOptions } from './generate/samples.js';
export type { RunSummary, MetricRow, Sample, TrainHyperparameters } from './train/run-summary.js';
export { pushToHub, type PushOptions, type PushProgress, type PushResult } from './hub/push.js';
export { PushError, type PushErrorCode } from './hub/push-error.js';
export { exportGGUF, GGUF_TYPES, type GGUFType, type ExportGGUFOptions, type ExportGGUFResult } from './export/gguf.js';
