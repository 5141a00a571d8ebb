// The native addon checks its arguments: wrong classes, types, thread counts,
// shapes and sizes that multiply past 2^63 are thrown JS errors, never a crash.
// The probes (test/helpers/addon-probes.mjs) call the raw addon in a child
// process, so a probe that crashes it fails this test by name instead of killing
// the ava worker.
import test from 'ava';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

interface ProbeLine {
  probe?: string;
  start?: boolean;
  outcome?: 'threw' | 'returned';
  isError?: boolean;
  error?: string;
  done?: boolean;
  mustSucceed?: string[];
}

function runProbes(): Promise<{ lines: ProbeLine[]; code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', join(ROOT, 'test', 'helpers', 'addon-probes.mjs')], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const lines = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as ProbeLine);
      resolve({ lines, code, signal, stderr });
    });
  });
}

test('the raw addon throws a JS error for every wrong argument, and a deep model works (probes in a child process)', async (t) => {
  const { lines, code, signal, stderr } = await runProbes();
  const started = lines.filter((l) => l.start).map((l) => l.probe!);
  const finished = new Map(lines.filter((l) => l.outcome).map((l) => [l.probe!, l]));
  const crashed = started.find((p) => !finished.has(p));
  t.is(crashed, undefined, `the process died (exit ${code}, signal ${signal}) during the probe "${crashed}":\n${stderr.slice(-2000)}`);
  t.is(code, 0, stderr.slice(-2000));
  const done = lines.find((l) => l.done);
  t.truthy(done, 'the probes ran to the end');
  t.true(started.length >= 40, `${started.length} probes ran`);
  const mustSucceed = new Set(done?.mustSucceed ?? []);
  for (const [probe, line] of finished) {
    if (mustSucceed.has(probe)) {
      t.is(line.outcome, 'returned', `${probe}: ${line.error}`);
    } else {
      t.is(line.outcome, 'threw', `${probe} was accepted`);
      t.true(line.isError, `${probe} threw a non-Error: ${line.error}`);
      t.regex(line.error ?? '', /^(TypeError|RangeError|Error): .{8,}/, `${probe}: ${line.error}`);
    }
  }
});
