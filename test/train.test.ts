// The pipeline end to end: a small model trained for a few steps on the demo
// archive, its model directory, card and run record, seeded generation, and
// --resume after an interruption ending with exactly the uninterrupted weights.
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { train, type TrainOptions } from '../lib/index.js';
import { smallBase as makeSmallBase } from './helpers/small-base.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin', 'tweetsmith.js');
const archive = join(root, 'demo', 'archive');
const scratch = () => mkdtempSync(join(tmpdir(), 'tweetsmith-train-'));

const smallBase = () => makeSmallBase(scratch());

const common = (base: string, out: string): TrainOptions => ({
  sources: [archive], base, out, maxSteps: 6, seed: 3, lr: 1e-3, validSplit: 0.1, threads: 2, samples: 2, warmup: 0.2,
});

test('train writes a Hugging Face model dir with its card and run record; generation is seeded', async (t) => {
  const base = await smallBase();
  const out = join(scratch(), 'bot');
  const steps: number[] = [];
  const trainingRun = train(common(base, out));
  for await (const e of trainingRun) if (e.type === 'step') steps.push(e.row.step);
  const result = await trainingRun.result;
  t.false(result.interrupted);
  t.deepEqual(steps, [1, 2, 3, 4, 5, 6]);

  for (const f of ['config.json', 'generation_config.json', 'model.safetensors', 'vocab.json', 'merges.txt', 'README.md',
    'run/report.html', 'run/metrics.jsonl', 'run/config.json', 'run/train.txt', 'run/posts.jsonl']) {
    t.true(existsSync(join(out, f)), f);
  }
  t.false(existsSync(`${out}.checkpoint`), 'a finished run leaves no checkpoint');
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  t.is(config.task_specific_params['text-generation'].top_p, 0.95);
  t.is(readFileSync(join(out, 'run', 'metrics.jsonl'), 'utf8').trim().split('\n').length, 6);

  // the card's table shows the dataset's counts
  const card = readFileSync(join(out, 'README.md'), 'utf8');
  const user = result.summary.dataset.users[0];
  t.is(user.downloaded, user.retweets + user.short + user.kept);
  for (const [label, value] of [['Tweets downloaded', user.downloaded], ['Retweets', user.retweets], ['Short tweets', user.short], ['Tweets kept', user.kept]] as const) {
    t.regex(card, new RegExp(`\\| ${label} \\| ${value} \\|`), label);
  }
  t.true(result.summary.final.validLoss! > 0 && result.summary.final.validLossBefore! > 0);

  // the same seed twice: the same posts
  const args = [cli, 'generate', '--model', out, 'The tide', '-n', '3', '--seed', '5', '--max-length', '24', '--json'];
  const a = JSON.parse((await run(process.execPath, args)).stdout);
  const b = JSON.parse((await run(process.execPath, args)).stdout);
  t.is(a.samples.length, 3);
  t.deepEqual(a, b);
  for (const s of a.samples) t.true(s.startsWith('The tide'), s);
});

test('--resume after an interruption ends with the weights of an uninterrupted run', async (t) => {
  const base = await smallBase();
  const straight = join(scratch(), 'straight');
  await train({ ...common(base, straight), samples: 0 }).result;

  const resumed = join(scratch(), 'resumed');
  const stopper = new AbortController();
  const first = train({ ...common(base, resumed), samples: 0, signal: stopper.signal });
  for await (const e of first) if (e.type === 'step' && e.row.step === 3) stopper.abort();
  const interrupted = await first.result;
  t.true(interrupted.interrupted);
  t.true(existsSync(join(`${resumed}`, '..', 'resumed.checkpoint', 'state.json')));
  t.false(existsSync(resumed), 'no model dir before the run finishes');

  const second = await train({ ...common(base, resumed), samples: 0, resume: true }).result;
  t.false(second.interrupted);
  t.is(second.summary.metrics.length, 6);
  const w1 = readFileSync(join(straight, 'model.safetensors'));
  const w2 = readFileSync(join(resumed, 'model.safetensors'));
  t.true(w1.equals(w2), 'bit-identical weights');
});

test('Ctrl-C during `tweetsmith train` writes a checkpoint and exits; --resume finishes', async (t) => {
  const base = await smallBase();
  const out = join(scratch(), 'cli');
  const args = [cli, 'train', archive, '--base', base, '--out', out, '--seed', '1', '--threads', '2', '--samples', '0', '--block-size', '16', '--max-steps', '400'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('training:')) resolve();
    });
  });
  await new Promise((r) => setTimeout(r, 500));
  child.kill('SIGINT');
  t.is(await exit, 130, stderr);
  t.regex(stderr, /checkpoint/);
  t.true(existsSync(`${out}.checkpoint`));
  const done = await run(process.execPath, [...args, '--resume']).catch((e) => e);
  t.is(done.code ?? 0, 0, done.stderr);
  t.regex(done.stderr, /resuming at step \d+ of 400/);
  t.true(existsSync(join(out, 'model.safetensors')));
});
