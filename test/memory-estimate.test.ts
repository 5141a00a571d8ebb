// The memory check a training run makes before its big allocations: what full and
// LoRA fine-tuning need, and the refusal (with the way out) when it will not fit.
import test from 'ava';
import { presetConfig } from '../lib/model/config.js';
import { countParameters } from '../lib/model/parameters.js';
import { availableMemory, checkTrainingFits, estimateTrainingMemory } from '../lib/train/memory-estimate.js';

const GiB = 2 ** 30;
const lora = { rank: 8, dropout: 0, targets: ['c_attn', 'c_proj', 'c_fc'] };

test('full fine-tuning holds gradients and two moments of every weight; LoRA only of the adapters', (t) => {
  const c = presetConfig('gpt2-xl');
  const full = estimateTrainingMemory(c, { batchSize: 1, blockSize: 1024 });
  const adapters = estimateTrainingMemory(c, { batchSize: 1, blockSize: 1024, lora });
  t.is(full.weights, 4 * countParameters(c));
  t.is(full.training, 3 * full.weights);
  t.true(adapters.training < full.training / 100, `${adapters.training} bytes for the adapters' state`);
  t.is(adapters.activations, full.activations);
  // longer blocks and bigger batches need more
  t.true(estimateTrainingMemory(c, { batchSize: 2, blockSize: 1024 }).activations > full.activations);
  t.true(estimateTrainingMemory(c, { batchSize: 1, blockSize: 512 }).activations < full.activations);
});

test('a bf16 or f16 LoRA base counts 2 bytes for each weight of the block matrices', (t) => {
  const c = presetConfig('gpt2-xl');
  const f32 = estimateTrainingMemory(c, { batchSize: 1, blockSize: 1024, lora: { ...lora, baseType: 'f32' } });
  const blockWeights = c.nLayer * 12 * c.nEmbd * c.nEmbd; // c_attn, attn.c_proj, c_fc, mlp.c_proj
  for (const baseType of ['bf16', 'f16']) {
    const narrow = estimateTrainingMemory(c, { batchSize: 1, blockSize: 1024, lora: { ...lora, baseType } });
    t.is(narrow.weights, f32.weights - 2 * blockWeights, baseType);
    t.is(narrow.total, f32.total - 2 * blockWeights);
  }
  t.is(f32.weights, 4 * countParameters(c));
  // gpt2-xl's weights: 5.8 GiB in f32, 3.1 GiB with its blocks in bf16
  t.true(f32.weights - 2 * blockWeights < 3.2 * GiB);
});

test('a run that will not fit is refused with the numbers and --lora suggested', (t) => {
  const c = presetConfig('gpt2-large');
  const run = { batchSize: 4, blockSize: 1024 };
  const error = t.throws(() => checkTrainingFits(c, run, 8 * GiB));
  t.regex(error!.message, /needs about [\d.]+ GiB more memory .* has 8\.0 GiB available/);
  t.regex(error!.message, /--lora \(about [\d.]+ GiB/);
  t.regex(error!.message, /--batch-size/);
  // with plenty of memory it passes and says what it counted on
  t.true(checkTrainingFits(c, run, 1024 * GiB).toAllocate > 8 * GiB);
  // a LoRA run is not told to use --lora
  t.notRegex(t.throws(() => checkTrainingFits(c, { ...run, lora }, 1 * GiB))!.message, /--lora/);
});

test('the available memory is read from the system', (t) => {
  const available = availableMemory();
  t.true(Number.isFinite(available) && available > 0);
});
