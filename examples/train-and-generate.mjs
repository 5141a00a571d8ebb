// A runnable example of tweetsmith's Node API, offline:
//   npm install && node examples/train-and-generate.mjs
// It initialises a small GPT-2, fine-tunes it on the demo archive shipped with the
// package for 60 steps with progress events, and samples posts from the result.
// (Import from 'tweetsmith' in your own project; this file runs inside the repository.)
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GPT2, samplePosts, Tokenizer, train } from '../dist/index.js';

const work = mkdtempSync(join(tmpdir(), 'tweetsmith-example-'));

// 1. a base model: a small GPT-2 from scratch (use a hub id such as 'gpt2' for real results)
const base = await GPT2.init('tiny', { seed: 0 });
await base.save(join(work, 'base'));
await base.dispose();

// 2. fine-tune: progress arrives as events; the result is a promise
const run = train({
  sources: [new URL('../demo/archive', import.meta.url).pathname],
  base: join(work, 'base'),
  out: join(work, 'bot'),
  lr: 2e-3,
  maxSteps: 60,
  seed: 1,
  samples: 0,
});
for await (const event of run) {
  if (event.type === 'dataset') console.log(event.table);
  if (event.type === 'step' && event.row.step % 10 === 0) console.log(`step ${event.row.step}/${event.totalSteps}: loss ${event.row.loss.toFixed(3)}`);
}
const { out, summary } = await run.result;
console.log(`model written to ${out} (final loss ${summary.final.trainLoss.toFixed(3)})`);

// 3. generate: whole posts, or token events with model.generate()
const model = await GPT2.load(out);
const tokenizer = await Tokenizer.fromDir(out);
const posts = await samplePosts(model, tokenizer, 'The tide', { n: 3, seed: 7, maxLength: 40 });
for (const post of posts) console.log(`- ${post}`);
await model.dispose();
