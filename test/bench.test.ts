// `tweetsmith bench` runs its workloads in child processes and reports them as
// JSON (numbers only checked for sanity: speed is measured by the benchmark, not tests).
import test from 'ava';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
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
  t.deepEqual(rows.map((r) => r.workload), ['train tiny 4×64 fp32 LoRA (f32 base)'], 'the row names the base storage: f32 by default under fp32');
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

// A stand-in for `python3 bench_torch.py` (CI has no PyTorch): answers as the script does,
// with figures that make the fast training peer and the int8 sampling peer the faster ones,
// and an error for bf16 sampling, as the script prints when it cannot run.
const FAKE_PYTHON = `#!/usr/bin/env node
const args = process.argv.slice(3);
const has = (flag) => args.includes(flag);
const out = (r) => process.stdout.write(JSON.stringify({ ...r, peakRssMiB: 100 + r.tokensPerSecond, torch: '9.9', blas: '/usr/lib/openblas-openmp/libblas.so.3', allocator: 'tcmalloc' }) + '\\n');
if (args[0] === 'train') out({ tokensPerSecond: (has('--bf16') ? 2 : 1) * (args[args.indexOf('--peer') + 1] === 'fast' ? 400 : 100) });
else if (has('--bf16')) { process.stdout.write(JSON.stringify({ error: 'no bf16 here' }) + '\\n'); process.exit(3); }
else out({ tokensPerSecond: has('--int8') ? 300 : 50 });
`;

test('bench --compare torch sets each workload against its fastest PyTorch peer and reports every peer', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tweetsmith-bench-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const python = join(dir, 'python3');
  await writeFile(python, FAKE_PYTHON);
  await chmod(python, 0o755);
  const { stdout } = await run(process.execPath, [
    cli, 'bench', '--size', 'tiny', '--threads', '2', '--steps', '1', '--only', 'train-4x64', 'generate-10x160',
    '--weights', 'f32', 'q8_0', '--compare', 'torch', '--python', python, '--json',
  ]);
  type Peer = { name: string; value: number; rssMiB: number; ratio: number; description: string };
  const rows: { workload: string; tweetsmith: number; peers?: Peer[]; peerName?: string; peer?: number; ratio?: number; note?: string }[] = JSON.parse(stdout).rows;
  const byName = (w: string) => rows.find((r) => r.workload === w)!;
  for (const [workload, fast, slow] of [['train tiny 4×64 fp32', 400, 100], ['train tiny 4×64 mixed bf16', 800, 200]] as const) {
    const row = byName(workload);
    t.deepEqual(row.peers!.map((p) => [p.name, p.value]), [['fast', fast], ['hf-style', slow]], workload);
    t.is(row.peerName, 'fast');
    t.is(row.ratio, row.tweetsmith / fast);
    t.is(row.peers![1].ratio, row.tweetsmith / slow);
    t.is(row.peers![0].rssMiB, 100 + fast);
    t.regex(row.peers![0].description, /PyTorch 9\.9 \(OpenBLAS, tcmalloc\).*AdamW\(foreach=True\)/);
  }
  // f32 sampling has the fp32 peer; q8_0 has bf16 (here failing: its error is the note) and int8
  t.deepEqual(byName('generate tiny 10×128 f32 weights').peers!.map((p) => p.name), ['fp32']);
  const q8 = byName('generate tiny 10×128 q8_0 weights');
  t.deepEqual(q8.peers!.map((p) => [p.name, p.value]), [['int8 dynamic', 300]]);
  t.is(q8.ratio, q8.tweetsmith / 300);
  t.is(q8.note, 'no bf16 here');
});

test('bench refuses an unknown workload', async (t) => {
  const e = await run(process.execPath, [cli, 'bench', '--only', 'nonsense']).catch((err) => err);
  t.is(e.code, 1);
  t.regex(e.stderr, /unknown workload "nonsense"/);
  const p = await run(process.execPath, [cli, 'bench', '--precision', 'fp8']).catch((err) => err);
  t.regex(p.stderr, /Allowed choices are fp32, bf16/);
});
