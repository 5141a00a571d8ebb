// A tiny random GPT-2 saved as a model folder: the base the training tests fine-tune
// (2 layers × 32, 32 positions: a step takes milliseconds).
import { join } from 'node:path';
import { GPT2 } from '../../lib/index.js';

/** writes the model into `parent`/base and returns that folder */
export async function smallBase(parent: string): Promise<string> {
  const dir = join(parent, 'base');
  const model = await GPT2.init({ nLayer: 2, nHead: 2, nEmbd: 32, nPositions: 32 }, { seed: 1, threads: 2 });
  await model.save(dir);
  await model.dispose();
  return dir;
}
