// Property-based fuzzing of the engine's parsers inside the suite: 1,000 cases of
// safetensors bytes (through the native loader) and 1,000 of config.json (through
// GPT2.load, which builds the native model from it). The property is checked by
// scripts/fuzz.mjs (a clear Error naming the file, or a valid result); it runs in
// a child process so that a crash is a failed test with the seed, not a dead
// worker. `npm run fuzz` runs the same properties for longer.
import test from 'ava';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CASES = 1000;
// Fixed, so a failure replays; TWEETSMITH_FUZZ_SEED explores others.
const SEED = process.env.TWEETSMITH_FUZZ_SEED ?? '2';

function runFuzz(parser: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', join(ROOT, 'scripts', 'fuzz.mjs'), '--cases', String(CASES), '--seed', SEED, '--parser', parser], {
      cwd: ROOT,
      env: { ...process.env, TWEETSMITH_FUZZ_TRACE: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

for (const parser of ['safetensors', 'config']) {
  test(`${parser}: ${CASES} fuzzed files give a clear error naming the file or a valid model, never a crash`, async (t) => {
    const run = await runFuzz(parser);
    const why = `exit ${run.code}${run.signal ? ` (signal ${run.signal})` : ''}; replay: node --import=tsx scripts/fuzz.mjs --parser ${parser} --seed ${SEED} --cases ${CASES}\n${run.stderr.slice(-4000)}`;
    t.is(run.code, 0, why);
    const report = JSON.parse(run.stdout.trim().split('\n').pop()!);
    t.like(report, { parser, cases: CASES });
    t.is(report.ok + report.errors, CASES);
    // both outcomes happen: the cases reach past the first check and into loading
    t.true(report.ok > 0 && report.errors > 0, JSON.stringify(report));
  });
}
