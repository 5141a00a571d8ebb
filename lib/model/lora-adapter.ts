// A LoRA adapter folder in PEFT's layout (what `PeftModel.save_pretrained` writes
// and `PeftModel.from_pretrained` reads): adapter_config.json, and
// adapter_model.safetensors with the keys get_peft_model_state_dict gives a
// GPT2LMHeadModel: base_model.model.transformer.h.N.attn.c_attn.lora_A.weight
// [r, in] and ….lora_B.weight [out, r]. The adapters are nn.Linear weights, so
// they are not transposed; GPT-2's own Conv1D weights are [in, out], which PEFT
// is told by "fan_in_fan_out": true. The base is named by
// base_model_name_or_path: a hub id, or a folder.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { LORA_DEFAULTS } from '../defaults.js';

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';
/** what PEFT puts before GPT-2's own parameter names */
export const PEFT_PREFIX = 'base_model.model.transformer.';

export interface LoraOptions {
  /** the adapters' inner dimension r (default LORA_DEFAULTS.rank) */
  rank?: number;
  /** the update is scaled by alpha / rank (default LORA_DEFAULTS.alpha) */
  alpha?: number;
  /** dropout on each adapter's input while training, in [0, 1) (default 0) */
  dropout?: number;
  /** which of c_attn, c_proj, c_fc get adapters; "c_proj" is both attention's and the MLP's, "attn.c_proj" or "mlp.c_proj" one of them */
  targets?: readonly string[];
  /**
   * how the frozen base's block matrices are stored while the adapters train or run:
   * 'bf16' or 'f16' take half the memory of 'f32' (default LORA_DEFAULTS.baseType,
   * by precision: bf16 under mixed precision, f32 under fp32)
   */
  baseType?: LoraBaseType;
}

/** The storage of a frozen base's block matrices (the embeddings, LayerNorms and biases stay f32). */
export type LoraBaseType = 'f32' | 'bf16' | 'f16';
export const LORA_BASE_TYPES: readonly LoraBaseType[] = Object.freeze(['f32', 'bf16', 'f16']);

/** What an adapter is (its config, as adapter_config.json says it); the base's storage is how it runs, not what it is. */
export type LoraSettings = Required<Omit<LoraOptions, 'baseType'>>;

/** `value` checked, or the default for `precision` ('fp32' when unknown) when it is undefined. */
export function loraBaseType(value: unknown, precision: string | undefined): LoraBaseType {
  if (value === undefined) return precision === 'bf16' ? LORA_DEFAULTS.baseType.bf16 : LORA_DEFAULTS.baseType.fp32;
  if (!LORA_BASE_TYPES.includes(value as LoraBaseType)) {
    throw new Error(`LoRA base type must be one of ${LORA_BASE_TYPES.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as LoraBaseType;
}

// the engine's bits (native/engine/lora_set.h)
const MODULE_BITS: Record<string, number> = { 'attn.c_attn': 1, 'attn.c_proj': 2, 'mlp.c_fc': 4, 'mlp.c_proj': 8 };

/** The engine's bitmask for PEFT target names; each name matches a module name or its last parts, as PEFT matches them. */
export function targetBits(targets: readonly string[]): number {
  let bits = 0;
  for (const t of targets) {
    const matched = Object.entries(MODULE_BITS).filter(([m]) => m === t || m.endsWith(`.${t}`));
    if (matched.length === 0) {
      throw new Error(`LoRA target "${t}" is not a GPT-2 module; use c_attn, c_proj, c_fc, attn.c_proj or mlp.c_proj`);
    }
    for (const [, bit] of matched) bits |= bit;
  }
  return bits;
}

/** Options with their defaults, checked: every bad value named. */
export function loraSettings(options: LoraOptions = {}): LoraSettings {
  const s: LoraSettings = {
    rank: options.rank ?? LORA_DEFAULTS.rank,
    alpha: options.alpha ?? LORA_DEFAULTS.alpha,
    dropout: options.dropout ?? LORA_DEFAULTS.dropout,
    targets: [...(options.targets ?? LORA_DEFAULTS.targets)],
  };
  if (!Number.isInteger(s.rank) || s.rank < 1) throw new Error(`LoRA rank must be a positive integer, got ${s.rank}`);
  if (!(s.alpha > 0) || !Number.isFinite(s.alpha)) throw new Error(`LoRA alpha must be a positive number, got ${s.alpha}`);
  if (!(s.dropout >= 0 && s.dropout < 1)) throw new Error(`LoRA dropout must be in [0, 1), got ${s.dropout}`);
  if (s.targets.length === 0) throw new Error('LoRA needs at least one target module (c_attn, c_proj, c_fc)');
  targetBits(s.targets);
  loraBaseType(options.baseType, undefined); // checked here too, so that every entry point refuses a bad one early
  return s;
}

export function isAdapterDir(dir: string): boolean {
  return existsSync(join(dir, ADAPTER_CONFIG_FILE));
}

/** adapter_config.json as PEFT's LoraConfig writes it (the fields PEFT reads; others take PEFT's defaults). */
export function adapterConfigJson(settings: LoraSettings, base: string): Record<string, unknown> {
  return {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: base,
    bias: 'none',
    fan_in_fan_out: true,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    lora_alpha: settings.alpha,
    lora_dropout: settings.dropout,
    modules_to_save: null,
    peft_type: 'LORA',
    r: settings.rank,
    rank_pattern: {},
    revision: null,
    target_modules: settings.targets,
    task_type: 'CAUSAL_LM',
    use_rslora: false,
  };
}

export interface AdapterConfig {
  settings: LoraSettings;
  /** base_model_name_or_path as written */
  base: string;
}

/** Reads and checks adapter_config.json; what tweetsmith cannot apply is an error that says so. */
export async function readAdapterConfig(dir: string): Promise<AdapterConfig> {
  const file = join(dir, ADAPTER_CONFIG_FILE);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: cannot read it as JSON (${(err as Error).message})`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${file}: must hold a JSON object`);
  const field = (name: string) => raw[name];
  if (field('peft_type') !== 'LORA') throw new Error(`${file}: peft_type is ${JSON.stringify(field('peft_type'))}; tweetsmith reads LORA adapters only`);
  if (field('bias') !== undefined && field('bias') !== 'none') throw new Error(`${file}: bias "${String(field('bias'))}" is not supported (only "none")`);
  if (field('use_rslora') === true) throw new Error(`${file}: use_rslora is not supported (the scale must be lora_alpha / r)`);
  if (field('use_dora') === true) throw new Error(`${file}: DoRA adapters (use_dora) are not supported`);
  for (const name of ['rank_pattern', 'alpha_pattern']) {
    const v = field(name);
    if (v && typeof v === 'object' && Object.keys(v).length > 0) throw new Error(`${file}: ${name} is not supported (one rank and alpha for every module)`);
  }
  if (field('layers_to_transform') != null) throw new Error(`${file}: layers_to_transform is not supported (adapters on every block)`);
  const modulesToSave = field('modules_to_save');
  if (Array.isArray(modulesToSave) && modulesToSave.length > 0) throw new Error(`${file}: modules_to_save is not supported`);
  const base = field('base_model_name_or_path');
  if (typeof base !== 'string' || base === '') throw new Error(`${file}: base_model_name_or_path must name the base model (a hub id or a folder)`);
  let targets = field('target_modules');
  if (typeof targets === 'string') targets = [targets];
  if (!Array.isArray(targets) || !targets.every((t) => typeof t === 'string')) {
    throw new Error(`${file}: target_modules must be a list of module names`);
  }
  try {
    const settings = loraSettings({
      rank: field('r') as number,
      alpha: field('lora_alpha') as number,
      dropout: (field('lora_dropout') as number | undefined) ?? 0,
      targets: targets as string[],
    });
    return { settings, base };
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}

/**
 * Where the base is: an absolute folder; a relative one, looked for beside the
 * adapter first (so a folder of folders can be moved together) and then in the
 * working directory; otherwise the name is a hub id, returned as is.
 */
export function locateBase(adapterDir: string, base: string): string {
  if (isAbsolute(base)) return base;
  const besideAdapter = resolve(adapterDir, base);
  if (existsSync(join(besideAdapter, 'config.json'))) return besideAdapter;
  if (existsSync(join(base, 'config.json'))) return resolve(base);
  return base;
}
