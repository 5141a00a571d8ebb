// A training run on the device under test (TWEETSMITH_DEVICE, which the Vulkan
// pass of npm test sets; otherwise 'auto'), from the command line, and the model
// it writes: the same logits on that device and on the CPU, and generation.
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GPT2 } from '../lib/index.js';
import { difference } from './helpers/compare.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin', 'tweetsmith.js');
const device = process.env.TWEETSMITH_DEVICE ?? 'auto';

test(`tweetsmith train --device ${device} writes a model whose logits the CPU reproduces`, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tweetsmith-device-'));
  const base = join(work, 'base');
  const init = await GPT2.init({ nLayer: 2, nHead: 2, nEmbd: 32, nPositions: 32 }, { seed: 1, threads: 2, device: 'cpu' });
  await init.save(base);
  await init.dispose();

  const out = join(work, 'bot');
  const { stderr } = await run(
    process.execPath,
    [cli, 'train', join(root, 'demo', 'archive'), '--base', base, '--out', out, '--max-steps', '3', '--block-size', '32',
      '--seed', '2', '--lr', '1e-3', '--threads', '2', '--device', device],
    { env: process.env, maxBuffer: 1 << 26 },
  );
  const line = stderr.split('\n').find((l) => l.startsWith('tweetsmith: device:'));
  t.log(line ?? 'no device line');
  t.truthy(line, 'train says which device it chose');

  const onDevice = await GPT2.load(out, { threads: 2, device: device as 'auto' });
  const onCpu = await GPT2.load(out, { threads: 2, device: 'cpu', portable: false });
  const tokens = Array.from({ length: 20 }, (_, i) => (i * 131 + 7) % 50257);
  const d = difference(await onDevice.logits(tokens), await onCpu.logits(tokens));
  t.log(`${onDevice.device} vs CPU: logits max relative difference ${d.relative.toExponential(2)}`);
  t.true(d.relative <= 1e-5, `relative difference ${d.relative}`);
  const fallback = onDevice.deviceInfo().fallbackOps;
  if (fallback.length > 0) t.log(`ran on the CPU instead: ${fallback.join(', ')}`);

  const { stdout } = await run(process.execPath, [cli, 'generate', '--model', out, 'The tide', '-n', '2', '--seed', '1',
    '--max-length', '20', '--device', device, '--json'], { env: process.env });
  t.is(JSON.parse(stdout).samples.length, 2);
  await onDevice.dispose();
  await onCpu.dispose();
});

test(`tweetsmith train --device ${device}: a run that cannot fit in the GPU's free memory is refused before it trains, naming the device`, async (t) => {
  if (!/^(vulkan|cuda)/.test(device)) {
    t.log('needs a GPU device (the Vulkan pass of npm test sets one); the CPU memory check is in test/memory-estimate.test.ts');
    t.pass();
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'tweetsmith-device-memory-'));
  const base = join(work, 'base');
  const init = await GPT2.init({ nLayer: 2, nHead: 2, nEmbd: 32, nPositions: 32 }, { seed: 1, threads: 2, device: 'cpu' });
  await init.save(base);
  await init.dispose();
  const out = join(work, 'bot');
  // 256 × 32 tokens a step: the logits and their gradient alone are several GiB, past
  // lavapipe's 2 GiB heap (and a small GPU's memory), though the CPU could hold them
  const failed = await run(
    process.execPath,
    [cli, 'train', join(root, 'demo', 'archive'), '--base', base, '--out', out, '--max-steps', '1', '--block-size', '32',
      '--batch-size', '256', '--threads', '2', '--device', device],
    { env: process.env, maxBuffer: 1 << 26 },
  ).then(() => undefined, (err: { code: number; stderr: string }) => err);
  t.truthy(failed, 'the run was refused');
  t.regex(failed!.stderr, /needs about [\d.]+ GiB more memory .* but .*\((Vulkan|CUDA)\d+\) has [\d.]+ GiB available\. Try --lora/);
  t.false(existsSync(out), 'nothing was written');
});
