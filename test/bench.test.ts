// `tweetsmith bench` runs its workloads in child processes and reports them as
// JSON (numbers only checked for sanity: speed is measured by the benchmark, not tests).
import test from 'ava';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const cli = join(import.meta.dirname, '..', 'bin', 'tweetsmith.js');

test('bench --json reports throughput and peak memory for each workload, precision and weight format asked for', async (t) => {
  const { stdout } = await run(process.execPath, [
    cli, 'bench', '--size', 'tiny', '--threads', '2', '--steps', '1', '--only', 'train-4x64', 'generate-10x160',
    '--weights', 'f32', 'q8_0', '--json',
  ]);
  const report = JSON.parse(stdout);
  t.deepEqual(
    report.rows.map((r: { workload: string }) => r.workload),
    ['train tiny 4×64 fp32', 'train tiny 4×64 mixed bf16', 'generate tiny 10×128 f32 weights', 'generate tiny 10×128 q8_0 weights'],
  );
  for (const row of report.rows) {
    t.true(row.tweetsmith > 0 && Number.isFinite(row.tweetsmith), row.workload);
    t.true(row.tweetsmithRssMiB > 10, row.workload);
  }
});

test('bench --lora trains LoRA adapters on the frozen base: its rows say so, with throughput and peak memory', async (t) => {
  const { stdout } = await run(process.execPath, [cli, 'bench', '--size', 'tiny', '--threads', '2', '--steps', '1', '--only', 'train-4x64', '--precision', 'fp32', '--lora', '--json']);
  const rows: { workload: string; tweetsmith: number; tweetsmithRssMiB: number }[] = JSON.parse(stdout).rows;
  t.deepEqual(rows.map((r) => r.workload), ['train tiny 4×64 fp32 LoRA']);
  t.true(rows[0].tweetsmith > 0 && Number.isFinite(rows[0].tweetsmith));
  t.true(rows[0].tweetsmithRssMiB > 10);
});

test('bench weights-perplexity scores held-out text with every sampling weight format', async (t) => {
  const { stdout } = await run(process.execPath, [cli, 'bench', '--size', 'tiny', '--threads', '2', '--only', 'weights-perplexity', '--json']);
  const rows: { workload: string; tweetsmith: number; note?: string }[] = JSON.parse(stdout).rows;
  t.deepEqual(rows.map((r) => r.workload.split(',')[1].trim().split(' ')[0]), ['f32', 'f16', 'bf16', 'q8_0']);
  // random weights: every format near the uniform perplexity over the vocabulary, within 0.1% of f32
  for (const r of rows) t.true(Math.abs(r.tweetsmith / rows[0].tweetsmith - 1) < 1e-3, r.workload);
  t.true(rows[0].tweetsmith > 20_000 && rows[0].tweetsmith < 100_000);
  t.regex(rows[3].note ?? '', /% against f32/);
});

test('bench refuses an unknown workload', async (t) => {
  const e = await run(process.execPath, [cli, 'bench', '--only', 'nonsense']).catch((err) => err);
  t.is(e.code, 1);
  t.regex(e.stderr, /unknown workload "nonsense"/);
  const p = await run(process.execPath, [cli, 'bench', '--precision', 'fp8']).catch((err) => err);
  t.regex(p.stderr, /Allowed choices are fp32, bf16/);
});
