// kill -9 while tweetsmith replaces its outputs: a child process writes a model,
// a dataset and a checkpoint over and over (test/helpers/output-writer.ts),
// alternating two versions, and is killed with SIGKILL at seeded random
// instants. After every kill each output loads through the library (GPT2.load,
// readDatasetDir, readCheckpoint + the optimizer state) and is, file for file,
// one of the two complete versions, never a mix; after the next write no
// staging folder or set-aside copy is left.
import test from 'ava';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDatasetDir } from '../lib/data/dataset-dir.js';
import { GPT2 } from '../lib/engine/gpt2.js';
import { locateOutput } from '../lib/fs/safe-output.js';
import { loadOptimizerState, readCheckpoint } from '../lib/train/checkpoint.js';
import { KILL_TEST_VERSIONS, versionModels, writeVersion } from './helpers/kill-test-outputs.js';

const KILLS = 36;
const LANES = 3;
const KINDS = ['model', 'dataset', 'model.checkpoint'] as const;
const writer = join(import.meta.dirname, 'helpers', 'output-writer.ts');

/** mulberry32: the kill instants are random but the same on every run. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Each file's sha256 by name: two folders with equal fingerprints hold the same output. */
async function fingerprint(dir: string): Promise<string> {
  const names = (await readdir(dir)).sort();
  const parts = await Promise.all(names.map(async (n) => `${n}:${createHash('sha256').update(await readFile(join(dir, n))).digest('hex')}`));
  return parts.join('\n');
}

/** Starts a writer and kills it (SIGKILL) `fraction` of one write cycle after its first outputs exist. */
async function killWriterAt(dir: string, first: number, fraction: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', writer, dir, String(first)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const cycleMs = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`the writer exited (${code}) before it was ready: ${stderr}`)));
  });
  await new Promise((r) => setTimeout(r, fraction * cycleMs * 2));
  child.kill('SIGKILL');
  await exited;
}

test('kill -9 at random points while a model, a dataset and a checkpoint are replaced: the old or the new one always loads, and no junk is left', async (t) => {
  // the two complete versions of each output, written undisturbed
  const reference = mkdtempSync(join(tmpdir(), 'tweetsmith-kill-ref-'));
  const models = await versionModels();
  const versions = new Map<string, number>();
  for (const v of KILL_TEST_VERSIONS) {
    await writeVersion(join(reference, String(v)), v, models);
    for (const kind of KINDS) versions.set(`${kind}\n${await fingerprint(join(reference, String(v), kind))}`, v);
  }

  // three writers at a time, each in its own folder: a child's start (Node, tsx,
  // the addon) takes far longer than its writes, and the lanes overlap those waits
  let midReplacement = 0;
  const lane = async (laneIndex: number, dir: string) => {
    const random = seededRandom(0x6b11 + laneIndex);
    for (let i = 0; i < KILLS / LANES; i++) {
      await killWriterAt(dir, i, random());
      const left = await readdir(dir);
      if (left.some((n) => n.includes('.tweetsmith-'))) midReplacement++;

      // the model: GPT2.load, and the folder it read is one whole version
      const model = await GPT2.load(join(dir, 'model'), { threads: 1 });
      await model.dispose();
      // the dataset: its reader checks the token files against stats.json
      const dataset = await readDatasetDir(join(dir, 'dataset'));
      // the checkpoint, as --resume reads it: state, posts, weights and AdamW's moments
      const checkpoint = await readCheckpoint(join(dir, 'model.checkpoint'));
      const resumed = await GPT2.load(join(dir, 'model.checkpoint'), { threads: 1 });
      try {
        await loadOptimizerState(checkpoint.at, resumed.trainer({}), checkpoint.state.step);
      } finally {
        await resumed.dispose();
      }
      const found: Record<string, number | undefined> = {};
      for (const kind of KINDS) {
        found[kind] = versions.get(`${kind}\n${await fingerprint(await locateOutput(join(dir, kind)))}`);
        t.not(found[kind], undefined, `lane ${laneIndex}, kill ${i}: ${kind} is not one whole version (left: ${left.join(', ')})`);
      }
      t.is<number | undefined, number | undefined>(dataset.manifest.seed, found.dataset);
      t.is<number | undefined, number | undefined>(checkpoint.state.step, found['model.checkpoint']);
    }
  };
  const dirs = Array.from({ length: LANES }, () => mkdtempSync(join(tmpdir(), 'tweetsmith-kill-')));
  await Promise.all(dirs.map((dir, i) => lane(i, dir)));
  t.log(`${KILLS} kills; ${midReplacement} left a staging folder or a set-aside copy behind`);
  t.true(midReplacement > 0, 'some kills landed mid-replacement (else this test proves little)');

  // the next write puts everything in place and cleans up after the killed runs
  for (const dir of dirs) {
    await writeVersion(dir, 1, models);
    t.deepEqual((await readdir(dir)).sort(), [...KINDS].sort());
  }
  for (const m of models.values()) await m.dispose();
});
