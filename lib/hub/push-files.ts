// Which files of a model folder go to the hub, checked before anything is
// sent: the folder must be a model in the Hugging Face layout (config.json
// that tweetsmith reads as GPT-2, model.safetensors whose header is sound), or
// a LoRA adapter in PEFT's (adapter_config.json, adapter_model.safetensors).
// Only the files that make the model, its card and its run record are
// published, by name: whatever else the user keeps in the folder (notes, an
// exported GGUF, a checkpoint) stays on their machine, and is reported.
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CONFIG_FILE, readModelConfig, TOKENIZER_FILES, WEIGHTS_FILE } from '../model/model-dir.js';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, isAdapterDir, readAdapterConfig } from '../model/lora-adapter.js';
import { OUTPUT_MARKER } from '../fs/output-layouts.js';
import { RUN_RECORD_DIR } from '../report/run-record-files.js';
import { PushError } from './push-error.js';

export const CARD_FILE = 'README.md';

/** The model's own files, in the order they are listed to the user. */
export const MODEL_FILES = [CONFIG_FILE, WEIGHTS_FILE, 'generation_config.json', ...TOKENIZER_FILES, CARD_FILE] as const;
/** A LoRA adapter's: PEFT's two files in place of config and weights (its card names the base). */
export const ADAPTER_FILES = [ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, ...TOKENIZER_FILES, CARD_FILE] as const;

export interface FileToPush {
  /** Path in the repository ("run/report.html"). */
  path: string;
  /** Where it is on disk. */
  source: string;
  size: number;
}

export interface PushSelection {
  files: FileToPush[];
  /** Entries of the folder that are not published (relative paths). */
  leftOut: string[];
}

/** A regular file (a symlink counts as what it points to, as in a hub-cache snapshot), else undefined. */
async function fileSize(path: string): Promise<number | undefined> {
  const info = await stat(path).catch(() => undefined);
  return info?.isFile() ? info.size : undefined;
}

/** The 8-byte header length and the JSON header of a safetensors file, checked against the file's size. */
async function checkSafetensors(file: string, size: number): Promise<void> {
  const bad = (why: string) => new PushError('bad-model', file, `${file}: ${why}; not a model's weights, so nothing was uploaded`);
  if (size < 8) throw bad('too short to be a safetensors file');
  const handle = await open(file, 'r');
  try {
    const lengthBytes = Buffer.alloc(8);
    await handle.read(lengthBytes, 0, 8, 0);
    const headerLength = Number(lengthBytes.readBigUInt64LE(0));
    if (headerLength > size - 8 || headerLength > 100 * 1024 * 1024) throw bad(`its header length (${headerLength} bytes) runs past the end of the file (truncated?)`);
    const header = Buffer.alloc(headerLength);
    await handle.read(header, 0, headerLength, 8);
    let parsed: unknown;
    try {
      parsed = JSON.parse(header.toString('utf8'));
    } catch {
      throw bad('its header is not JSON');
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw bad('its header is not a JSON object');
    const dataSize = size - 8 - headerLength;
    for (const [name, info] of Object.entries(parsed as Record<string, { data_offsets?: unknown }>)) {
      if (name === '__metadata__') continue;
      const offsets = info?.data_offsets;
      if (!Array.isArray(offsets) || offsets.length !== 2 || !(Number(offsets[1]) <= dataSize)) {
        throw bad(`tensor "${name}" lies past the end of the file (truncated?)`);
      }
    }
  } finally {
    await handle.close();
  }
}

/**
 * The files of `modelDir` to publish: the model files it has, and with
 * `includeRun` the files directly inside `run/`. Throws a PushError naming the
 * file when the folder is not a model folder.
 */
export async function selectFilesToPush(modelDir: string, includeRun: boolean): Promise<PushSelection> {
  const info = await stat(modelDir).catch(() => undefined);
  if (!info) throw new PushError('bad-model', modelDir, `${modelDir}: no such model folder`);
  if (!info.isDirectory()) throw new PushError('bad-model', modelDir, `${modelDir} is a file; push takes the model folder that train or init-model wrote`);
  const adapter = isAdapterDir(modelDir);
  try {
    if (adapter) await readAdapterConfig(modelDir);
    else await readModelConfig(modelDir);
  } catch (err) {
    throw new PushError('bad-model', modelDir, `${(err as Error).message}; push takes a model folder that train or init-model wrote, so nothing was uploaded`);
  }

  const names: readonly string[] = adapter ? ADAPTER_FILES : MODEL_FILES;
  const [configName, weightsName] = adapter ? [ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE] : [CONFIG_FILE, WEIGHTS_FILE];
  const files: FileToPush[] = [];
  for (const name of names) {
    const source = join(modelDir, name);
    const size = await fileSize(source);
    if (size !== undefined) files.push({ path: name, source, size });
  }
  const weights = files.find((f) => f.path === weightsName);
  if (!weights) {
    throw new PushError('bad-model', modelDir, `${join(modelDir, weightsName)}: missing; a model folder holds ${configName} and ${weightsName}, so nothing was uploaded`);
  }
  await checkSafetensors(weights.source, weights.size);

  const leftOut: string[] = [];
  const published = new Set<string>(names);
  for (const entry of await readdir(modelDir, { withFileTypes: true })) {
    if (entry.name === RUN_RECORD_DIR && (entry.isDirectory() || entry.isSymbolicLink())) {
      const runFiles = await runRecordFiles(modelDir);
      if (includeRun) files.push(...runFiles.files);
      leftOut.push(...(includeRun ? runFiles.leftOut : [`${RUN_RECORD_DIR}/`]));
    } else if (entry.name === OUTPUT_MARKER) {
      // tweetsmith's own note that it wrote the folder: nothing for the hub, nor the user's
    } else if (!published.has(entry.name)) {
      leftOut.push(entry.isDirectory() ? `${entry.name}/` : entry.name);
    }
  }
  return { files, leftOut: leftOut.sort() };
}

/** The run record is flat (run-record-files.ts): its regular files go, anything nested stays. */
async function runRecordFiles(modelDir: string): Promise<PushSelection> {
  const dir = join(modelDir, RUN_RECORD_DIR);
  const files: FileToPush[] = [];
  const leftOut: string[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const source = join(dir, entry.name);
    const size = await fileSize(source);
    if (size !== undefined) files.push({ path: `${RUN_RECORD_DIR}/${entry.name}`, source, size });
    else leftOut.push(`${RUN_RECORD_DIR}/${entry.name}${entry.isDirectory() ? '/' : ''}`);
  }
  return { files, leftOut };
}
