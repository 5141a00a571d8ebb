// A model directory in the Hugging Face layout: what it must hold, how to read
// its config, and how to write one so that a crash never leaves half a model
// (everything goes into a temporary sibling directory that is renamed at the end).
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { configFromHF, type GPT2Config } from './config.js';

export const WEIGHTS_FILE = 'model.safetensors';
export const CONFIG_FILE = 'config.json';
export const TOKENIZER_FILES = [
  'vocab.json',
  'merges.txt',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
] as const;

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

/** Copies the tokenizer files that `from` has into `to`; returns the names copied. */
export async function copyTokenizerFiles(from: string, to: string): Promise<string[]> {
  const copied: string[] = [];
  for (const name of TOKENIZER_FILES) {
    if (existsSync(join(from, name))) {
      await cp(join(from, name), join(to, name));
      copied.push(name);
    }
  }
  return copied;
}

export async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFile(file, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Builds a directory by calling `fill` on a fresh temporary sibling, then puts it
 * in place of `dir` (replacing an older one only once the new one is complete).
 */
export async function writeDirAtomically(dir: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  const target = resolve(dir);
  await mkdir(dirname(target), { recursive: true });
  const tmp = await mkdtemp(join(dirname(target), `.${basename(target)}.partial-`));
  try {
    await chmod(tmp, 0o777 & ~process.umask()); // mkdtemp makes it private; a model dir is an ordinary folder
    await fill(tmp);
    if (existsSync(target)) {
      const old = `${tmp}.old`;
      await rename(target, old);
      await rename(tmp, target);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(tmp, target);
    }
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
