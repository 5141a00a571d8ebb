#!/usr/bin/env node
// The headline benchmark: how long `tweetsmith train` takes to make a whole bot, end to end
// (reading the archive, tokenizing, loading the base, training, validating, sampling the
// card's posts, writing the model), on an X archive of a real account's size.
//
//   npm run bench:bot [-- options]
//   node scripts/bot-timing.mjs [--posts 2590] [--size gpt2] [--epochs 4] [--threads N]
//       [--ways fp32,bf16,lora-bf16] [--valid-split 0.1] [--max-steps N] [--work DIR] [--json]
//
// It writes the archive (demo/make-archive.mjs --posts N), a random-init base of --size
// (`tweetsmith init-model`, seed 0: no pre-trained GPT-2 can be downloaded here, so the
// validation loss only compares the ways with each other), then runs `tweetsmith train`
// once per way, one at a time, with the same seed and split:
//
//   fp32       every weight, exact fp32 products
//   bf16       every weight, mixed precision (bf16 products, fp32 weights)
//   lora-bf16  LoRA adapters (LORA_DEFAULTS) on the frozen base, mixed precision
//
// and prints each way's wall time, the tokens it trained on, its training speed and its
// final validation loss, as a table on stderr and, with --json, as JSON on stdout.
// --max-steps N stops each run early (a quick check at full size): the table then also
// estimates the whole run from the speed of the steps taken. Everything goes in a new
// temporary folder (or --work DIR, new or empty), removed at the end unless --work names it.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'bin', 'tweetsmith.js');
const WAYS = {
  fp32: { precision: 'fp32', lora: false },
  bf16: { precision: 'bf16', lora: false },
  'lora-bf16': { precision: 'bf16', lora: true },
};

function fail(message) {
  process.stderr.write(`bot-timing: ${message}\n`);
  process.exit(1);
}

let o;
try {
  o = parseArgs({
    options: {
      posts: { type: 'string', default: '2590' },
      size: { type: 'string', default: 'gpt2' },
      epochs: { type: 'string', default: '4' },
      threads: { type: 'string' },
      ways: { type: 'string', default: Object.keys(WAYS).join(',') },
      'valid-split': { type: 'string', default: '0.1' },
      'max-steps': { type: 'string' },
      work: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
} catch (err) {
  fail(`${err.message} (see the head of scripts/bot-timing.mjs)`);
}
if (o.help) {
  process.stdout.write(
    'usage: node scripts/bot-timing.mjs [--posts 2590] [--size gpt2] [--epochs 4] [--threads N]\n' +
      '  [--ways fp32,bf16,lora-bf16] [--valid-split 0.1] [--max-steps N] [--work DIR] [--json]\n',
  );
  process.exit(0);
}
const ways = o.ways.split(',').map((w) => w.trim());
for (const w of ways) if (!(w in WAYS)) fail(`unknown way "${w}" in --ways; choose from ${Object.keys(WAYS).join(', ')}`);
const whole = (name, value) => {
  if (value !== undefined && !/^[1-9]\d*$/.test(value)) fail(`--${name} must be a positive whole number, not "${value}"`);
  return value;
};
whole('posts', o.posts);
whole('epochs', o.epochs);
whole('threads', o.threads);
whole('max-steps', o['max-steps']);
if (o.work && existsSync(o.work) && readdirSync(o.work).length > 0) fail(`--work ${o.work} is not empty; name a new or empty folder`);
const work = o.work ? resolve(o.work) : mkdtempSync(join(tmpdir(), 'tweetsmith-bot-timing-'));
mkdirSync(work, { recursive: true });

/** Seconds since training started at each step, from the run record's metrics.jsonl ([] if unreadable). */
function stepTimes(out) {
  try {
    return readFileSync(join(out, 'run', 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line).elapsed)
      .filter((e) => typeof e === 'number');
  } catch {
    return [];
  }
}
const log = (line) => process.stderr.write(`${line}\n`);
const seconds = () => Number(process.hrtime.bigint()) / 1e9;
const tweetsmith = (args) => run(process.execPath, [cli, ...args], { cwd: root, maxBuffer: 1 << 26 });

try {
  const archive = join(work, 'archive');
  log(`archive: ${o.posts} posts -> ${archive}`);
  const made = await run(process.execPath, [join(root, 'demo', 'make-archive.mjs'), '--posts', o.posts, '--out', archive]);
  const kept = /tweets kept (\d+)/.exec(made.stdout)?.[1];
  const base = join(work, 'base');
  log(`base: random-init ${o.size} (seed 0) -> ${base}`);
  await tweetsmith(['init-model', '--size', o.size, '--seed', '0', '--out', base, ...(o.threads ? ['--threads', o.threads] : [])]);

  const results = [];
  for (const way of ways) {
    const { precision, lora } = WAYS[way];
    const args = [
      'train', archive, '--base', base, '--out', join(work, way), '--epochs', o.epochs, '--precision', precision,
      '--valid-split', o['valid-split'], '--seed', '0', '--json',
      ...(lora ? ['--lora'] : []),
      ...(o.threads ? ['--threads', o.threads] : []),
      ...(o['max-steps'] ? ['--max-steps', o['max-steps']] : []),
    ];
    log(`${way}: tweetsmith ${args.join(' ')}`);
    const t0 = seconds();
    const { stdout } = await tweetsmith(args);
    const wallSeconds = seconds() - t0;
    const s = JSON.parse(stdout.trim().split('\n').pop());
    const h = s.hyperparameters;
    const tokensPerStep = h.batchSize * h.gradAccum * h.blockSize;
    // the whole run's optimizer steps: every training block, batch × accumulation at a time
    const plannedSteps = Math.ceil(s.dataset.trainBlocks / (h.batchSize * h.gradAccum));
    const tokens = Math.min(s.steps * tokensPerStep, s.dataset.trainBlocks * h.blockSize);
    const r = {
      way,
      precision,
      lora,
      wallSeconds,
      trainSeconds: s.trainSeconds,
      steps: s.steps,
      plannedSteps,
      tokens,
      tokensPerSecond: tokens / s.trainSeconds,
      validLoss: s.final.validLoss ?? null,
      trainLoss: s.final.trainLoss,
    };
    if (s.steps < plannedSteps) {
      // the steps not taken at the speed of those taken after the first (which also plans
      // the graph), plus this run's time as it was
      const elapsed = stepTimes(join(work, way));
      const perStep = elapsed.length >= 2 ? (elapsed.at(-1) - elapsed[0]) / (elapsed.length - 1) : s.trainSeconds / s.steps;
      r.secondsPerStep = perStep;
      r.estimatedFullSeconds = wallSeconds + (plannedSteps - s.steps) * perStep;
    }
    log(`${way}: ${wallSeconds.toFixed(1)} s, ${s.steps}/${plannedSteps} steps, validation loss ${r.validLoss?.toFixed(4) ?? '–'}`);
    results.push(r);
  }

  const report = {
    date: new Date().toISOString(),
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}`,
    archive: { posts: Number(o.posts), kept: kept === undefined ? null : Number(kept) },
    size: o.size,
    base: 'random init, seed 0',
    epochs: Number(o.epochs),
    validSplit: Number(o['valid-split']),
    threads: o.threads ? Number(o.threads) : cpus().length,
    maxSteps: o['max-steps'] ? Number(o['max-steps']) : null,
    ways: results,
  };
  const minutes = (sec) => `${Math.floor(sec / 60)}:${String(Math.round(sec % 60)).padStart(2, '0')}`;
  const header = ['way', 'wall time', 'steps', 'tokens', 'tok/s (training)', 'validation loss', ...(o['max-steps'] ? ['whole run, est.'] : [])];
  const body = results.map((r) => [
    r.way,
    `${minutes(r.wallSeconds)} (${r.wallSeconds.toFixed(1)} s)`,
    `${r.steps}/${r.plannedSteps}`,
    r.tokens.toLocaleString('en-US'),
    r.tokensPerSecond.toFixed(1),
    r.validLoss === null ? '–' : r.validLoss.toFixed(4),
    ...(o['max-steps'] ? [r.estimatedFullSeconds === undefined ? 'done' : minutes(r.estimatedFullSeconds)] : []),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  log(
    [
      '',
      `tweetsmith train, end to end: ${report.archive.posts} posts (${report.archive.kept} kept), ${o.size} from a random init, ${o.epochs} epochs, ` +
        `validation split ${o['valid-split']}, ${report.threads} threads, ${report.machine}`,
      line(header),
      `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
      ...body.map(line),
    ].join('\n'),
  );
  if (o.json) process.stdout.write(JSON.stringify(report) + '\n');
} catch (err) {
  // (not fail(): process.exit would skip removing the temporary folder)
  process.stderr.write(`bot-timing: ${err.message.split('\n')[0]}${err.stderr ? `\n${String(err.stderr).trim().split('\n').slice(-5).join('\n')}` : ''}\n`);
  process.exitCode = 1;
} finally {
  if (!o.work) rmSync(work, { recursive: true, force: true });
}
