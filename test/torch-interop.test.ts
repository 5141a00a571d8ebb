// A model directory tweetsmith writes loads in PyTorch (the independent reference
// in scripts/reference/, which reads the Hugging Face names and layouts) and gives
// the same logits. Needs Debian's python3-torch; skipped, saying so, without it.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GPT2 } from '../lib/index.js';
import { readSafetensors } from '../lib/model/safetensors.js';
import { difference } from './helpers/compare.js';

const root = join(import.meta.dirname, '..');
const PYTHON = process.env.TWEETSMITH_TORCH_PYTHON ?? '/usr/bin/python3';

function torchAvailable(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const maybe = torchAvailable() ? test : test.skip;
if (!torchAvailable()) console.log(`torch-interop: skipped, ${PYTHON} has no torch (apt-get install python3-torch python3-numpy)`);

maybe('a trained model dir gives the same logits in PyTorch', async (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'tweetsmith-torch-')), 'model');
  const model = await GPT2.init({ nLayer: 2, nHead: 4, nEmbd: 64, nPositions: 64 }, { seed: 5, threads: 2 });
  const trainer = model.trainer({ lr: 1e-2 });
  const block = Array.from({ length: 48 }, (_, i) => (i * 977) % 50257);
  for (let i = 0; i < 3; i++) await trainer.step(block);
  await model.save(dir);
  const tokens = [50256, 3666, 4320, 318, 284, 1100, 1576];
  const ours = await model.logits(tokens);
  const out = join(dir, 'torch-logits.safetensors');
  execFileSync(PYTHON, [join(root, 'scripts', 'reference', 'gpt2_torch.py'), 'logits', dir, JSON.stringify(tokens), out]);
  const theirs = (await readSafetensors(out)).get('logits')!.data;
  const d = difference(ours, theirs);
  t.log(`max |tweetsmith - PyTorch| = ${d.maxAbs.toExponential(2)} (relative ${d.relative.toExponential(2)})`);
  t.true(d.relative < 1e-4);
  await model.dispose();
});
