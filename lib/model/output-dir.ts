// Whether a command may write a model folder at `dir`: what lib/fs/safe-output.ts
// allows (new, empty, or a tweetsmith output), and never one of the command's own
// inputs (merging an adapter into the folder it was read from would replace it).
import { existsSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { assertOutputWritable, type OutputOptions } from '../fs/safe-output.js';

function samePath(a: string, b: string): boolean {
  const real = (p: string) => (existsSync(p) ? realpathSync(p) : resolve(p));
  return real(a) === real(b);
}

export async function checkOutputDir(dir: string, inputs: string[] = [], options: OutputOptions = {}): Promise<void> {
  for (const input of inputs) {
    if (samePath(dir, input)) throw new Error(`--out ${dir} is also an input of this command; write the result somewhere else`);
  }
  await assertOutputWritable(dir, 'model', options);
}
