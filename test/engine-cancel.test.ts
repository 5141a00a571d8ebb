// Long engine calls run off the JS thread and can be cancelled; the model stays usable.
import test from 'ava';
import { collectTokens, GPT2 } from '../lib/index.js';

const CONFIG = { nLayer: 4, nHead: 4, nEmbd: 256, nPositions: 512, vocabSize: 5000 };

test('a training step can be cancelled; the JS thread stays free meanwhile; the model still trains', async (t) => {
  const model = await GPT2.init(CONFIG, { seed: 1, threads: 2 });
  const trainer = model.trainer({ lr: 1e-3 });
  const batch = [Array.from({ length: 512 }, (_, i) => (i * 7) % 5000), Array.from({ length: 512 }, (_, i) => (i * 11) % 5000)];
  const before = await model.parameters();

  // the cancel comes from the event loop's third tick during the step: the step ending
  // in AbortError shows the JS thread ran meanwhile (a fixed 30 ms timer raced the busy
  // 2-core CI machine, where the loop got only 2 ticks in before the cancel)
  let ticks = 0;
  const timer = setInterval(() => {
    if (++ticks === 3) model.cancel();
  }, 5);
  const step = trainer.step(batch);
  const error = await t.throwsAsync(step);
  clearInterval(timer);
  t.is(error!.name, 'AbortError');
  t.true(ticks >= 3, `the event loop ran ${ticks} times during the step`);
  t.deepEqual((await model.parameters())['h.0.mlp.c_fc.weight'], before['h.0.mlp.c_fc.weight'], 'a cancelled step changes nothing');

  const loss = await trainer.step(batch);
  t.true(Number.isFinite(loss));
  t.notDeepEqual((await model.parameters())['h.0.mlp.c_fc.weight'], before['h.0.mlp.c_fc.weight']);
  await model.dispose();
});

test('generation stops when its signal aborts', async (t) => {
  const model = await GPT2.init(CONFIG, { seed: 1, threads: 2 });
  const controller = new AbortController();
  let count = 0;
  const run = (async () => {
    for await (const e of model.generate([1, 2, 3], { n: 2, maxLength: 400, minLength: 400, signal: controller.signal })) {
      if (++count === 10) controller.abort();
      void e;
    }
  })();
  await t.throwsAsync(run, { name: 'AbortError' });
  t.true(count >= 10 && count < 40);
  t.is((await collectTokens(model.generate([1], { n: 1, maxLength: 5, minLength: 5 }), 1))[0].length, 4, 'the model still samples');
  await model.dispose();
});

test('a disposed model says so', async (t) => {
  const model = await GPT2.init({ nLayer: 1, nHead: 1, nEmbd: 8, nPositions: 8, vocabSize: 10 }, { threads: 1 });
  await model.dispose();
  await t.throwsAsync(model.logits([1, 2]), { message: /disposed/ });
});
