// `tweetsmith bench` runs its workloads in child processes and reports them as
// JSON (numbers only checked for sanity: speed is measured by the benchmark, not tests).
import test from 'ava';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const cli = join(import.meta.dirname, '..', 'bin', 'tweetsmith.js');

test('bench --json reports throughput and peak memory for each workload asked for', async (t) => {
  const { stdout } = await run(process.execPath, [cli, 'bench', '--size', 'tiny', '--threads', '2', '--steps', '1', '--only', 'train-4x64', 'generate-10x160', '--json']);
  const report = JSON.parse(stdout);
  t.is(report.rows.length, 2);
  for (const row of report.rows) {
    t.true(row.tweetsmith > 0 && Number.isFinite(row.tweetsmith), row.workload);
    t.true(row.tweetsmithRssMiB > 10, row.workload);
  }
  t.regex(report.rows[0].workload, /train tiny 4×64/);
  t.regex(report.rows[1].workload, /generate tiny 10×128/);
});

test('bench refuses an unknown workload', async (t) => {
  const e = await run(process.execPath, [cli, 'bench', '--only', 'nonsense']).catch((err) => err);
  t.is(e.code, 1);
  t.regex(e.stderr, /unknown workload "nonsense"/);
});
