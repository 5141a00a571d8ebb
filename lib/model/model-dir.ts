// A model directory in the Hugging Face layout: what it must hold, how to read
// its config, and how to write one so that a crash never leaves half a model and
// nothing of the user's is replaced (lib/fs/safe-output.ts does the writing).
import { existsSync } from 'node:fs';
import { copyFile, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configFromHF, type GPT2Config } from './config.js';
import { CONFIG_FILE, TOKENIZER_FILES, WEIGHTS_FILE } from './model-files.js';

export { CONFIG_FILE, GENERATION_CONFIG_FILE, TOKENIZER_FILES, WEIGHTS_FILE } from './model-files.js';

export async function readModelConfig(dir: string): Promise<{ config: GPT2Config; raw: Record<string, unknown> }> {
  const file = join(dir, CONFIG_FILE);
  if (!existsSync(dir)) throw new Error(`${dir}: no such model directory`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new Error(`${file}: missing; a model directory needs config.json and ${WEIGHTS_FILE} (make one with: tweetsmith init-model --out DIR)`);
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${file}: must hold a JSON object`);
  return { config: configFromHF(raw, file), raw };
}

export function weightsPath(dir: string): string {
  const file = join(dir, WEIGHTS_FILE);
  if (!existsSync(file)) {
    const bin = join(dir, 'pytorch_model.bin');
    throw new Error(
      existsSync(bin)
        ? `${dir}: has only pytorch_model.bin; tweetsmith reads ${WEIGHTS_FILE} (convert it with transformers: model.save_pretrained(dir, safe_serialization=True))`
        : `${file}: missing`,
    );
  }
  return file;
}

/**
 * Copies the tokenizer files that `from` has into `to`; returns the names copied.
 * Each is copied as content from its real path: a hub cache's snapshot holds
 * symbolic links into its blobs, and a model folder must not point into a cache
 * that can be pruned or moved.
 */
export async function copyTokenizerFiles(from: string, to: string): Promise<string[]> {
  const copied: string[] = [];
  for (const name of TOKENIZER_FILES) {
    const source = join(from, name);
    if (!existsSync(source)) continue;
    const real = await realpath(source);
    if (!(await stat(real)).isFile()) throw new Error(`${source}: not a file, so not a tokenizer file to copy`);
    await copyFile(real, join(to, name));
    copied.push(name);
  }
  return copied;
}

export async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFile(file, JSON.stringify(value, null, 2) + '\n');
}
