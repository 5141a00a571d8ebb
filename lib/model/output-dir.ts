// Whether a command may write a model folder at `dir`: writeDirAtomically replaces
// the folder as a whole, so it must be empty, missing, or a model tweetsmith wrote
// before (config.json + model.safetensors, or a LoRA adapter), and never one of the
// command's own inputs. The one place this is decided, so that a general
// safe-output module can take its place.
import { existsSync, realpathSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ADAPTER_CONFIG_FILE } from './lora-adapter.js';
import { CONFIG_FILE, WEIGHTS_FILE } from './model-dir.js';

function samePath(a: string, b: string): boolean {
  const real = (p: string) => (existsSync(p) ? realpathSync(p) : resolve(p));
  return real(a) === real(b);
}

export async function checkOutputDir(dir: string, inputs: string[] = []): Promise<void> {
  for (const input of inputs) {
    if (samePath(dir, input)) throw new Error(`--out ${dir} is also an input of this command; write the result somewhere else`);
  }
  const info = await stat(dir).catch(() => undefined);
  if (!info) return;
  if (!info.isDirectory()) throw new Error(`--out ${dir} is a file, not a folder; choose another path`);
  const names = await readdir(dir);
  if (names.length === 0) return;
  const isModel = existsSync(join(dir, CONFIG_FILE)) && existsSync(join(dir, WEIGHTS_FILE));
  if (isModel || existsSync(join(dir, ADAPTER_CONFIG_FILE))) return;
  throw new Error(
    `--out ${dir} is a folder with other things in it (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}), ` +
      'not a model tweetsmith wrote; it would be replaced as a whole. Choose an empty or new folder.',
  );
}
