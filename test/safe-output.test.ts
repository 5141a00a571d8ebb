// The user's files are never destroyed: every output path (--out of init-model,
// dataset and train; model.save; single-file outputs) replaces only what
// tweetsmith wrote there itself, and a killed replacement is found and finished.
// The CLI cases run the real command line (bin/tweetsmith.js).
import test from 'ava';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink, rename, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GPT2 } from '../lib/engine/gpt2.js';
import { locateOutput, OutputRefusedError, setAsidePath, writeOutputDir } from '../lib/fs/safe-output.js';
import { replaceFileSafely } from '../lib/fs/replace-file.js';
import { copyTokenizerFiles } from '../lib/model/model-dir.js';

const execFileAsync = promisify(execFile);
const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin', 'tweetsmith.js');
const archive = join(root, 'demo', 'archive');
const scratch = () => mkdtempSync(join(tmpdir(), 'tweetsmith-out-'));

async function tweetsmith(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [cli, ...args], { maxBuffer: 1 << 24 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Every path under `dir` with the sha256 of each file (links: their target), to compare before and after. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string, rel: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const path = join(d, e.name);
      const key = rel ? `${rel}/${e.name}` : e.name;
      if (e.isSymbolicLink()) out[key] = `-> ${await readlink(path)}`;
      else if (e.isDirectory()) {
        out[`${key}/`] = 'dir';
        await walk(path, key);
      } else out[key] = createHash('sha256').update(await readFile(path)).digest('hex');
    }
  };
  await walk(dir, '');
  return out;
}

/** A folder of the user's own: notes, a sub-folder, and names that look like a model's. */
async function usersFolder(dir: string): Promise<void> {
  await mkdir(join(dir, 'photos'), { recursive: true });
  await writeFile(join(dir, 'notes.txt'), 'my notes, not a model\n');
  await writeFile(join(dir, 'photos', 'cat.jpg'), Buffer.from([0xff, 0xd8, 0xff, 1, 2, 3]));
  await writeFile(join(dir, 'config.json'), '{"mine": true}\n');
}

const weightsHash = async (dir: string) => createHash('sha256').update(await readFile(join(dir, 'model.safetensors'))).digest('hex');

// ---------------------------------------------------------------- the CLI's --out

test('init-model --out a folder holding the user\'s files: refused, every file byte-identical, with or without --force', async (t) => {
  const out = join(scratch(), 'mine');
  await usersFolder(out);
  const before = await snapshot(out);
  for (const extra of [[], ['--force']]) {
    const r = await tweetsmith('init-model', '--size', 'tiny', '--out', out, ...extra);
    t.not(r.code, 0, r.stderr);
    t.true(r.stderr.includes(out), r.stderr);
    t.regex(r.stderr, /tweetsmith did not write/);
    t.deepEqual(await snapshot(out), before);
  }
  t.deepEqual((await readdir(join(out, '..'))).sort(), ['mine'], 'nothing written beside it');
});

test('init-model --out a file, or a symbolic link: refused, both left as they were', async (t) => {
  const dir = scratch();
  const file = join(dir, 'model.txt');
  await writeFile(file, 'a file of mine');
  let r = await tweetsmith('init-model', '--size', 'tiny', '--out', file);
  t.not(r.code, 0);
  t.regex(r.stderr, /model\.txt is a file, not a folder/);
  t.is(await readFile(file, 'utf8'), 'a file of mine');

  // a link to an empty folder and a link to a model tweetsmith wrote: not written through either
  const target = join(dir, 'real');
  await mkdir(target);
  const link = join(dir, 'link');
  await symlink(target, link);
  r = await tweetsmith('init-model', '--size', 'tiny', '--out', link, '--force');
  t.not(r.code, 0);
  t.regex(r.stderr, /link is a symbolic link/);
  t.true((await lstat(link)).isSymbolicLink());
  t.deepEqual(await readdir(target), []);
  t.deepEqual((await readdir(dir)).sort(), ['link', 'model.txt', 'real']);
});

test('a previous output: the same kind is replaced (the re-run), another kind needs --force, a file added to it makes it the user\'s', async (t) => {
  const dir = scratch();
  const out = join(dir, 'model');
  let r = await tweetsmith('init-model', '--size', 'tiny', '--out', out, '--seed', '1');
  t.is(r.code, 0, r.stderr);
  const first = await weightsHash(out);
  r = await tweetsmith('init-model', '--size', 'tiny', '--out', out, '--seed', '2');
  t.is(r.code, 0, r.stderr);
  t.not(await weightsHash(out), first, 'replaced by the re-run');
  t.deepEqual(await readdir(dir), ['model'], 'no staging or set-aside folder left');

  // a dataset over a model: only with --force
  const model = await snapshot(out);
  r = await tweetsmith('dataset', archive, '--out', out, '--seed', '1');
  t.not(r.code, 0);
  t.regex(r.stderr, /holds a tweetsmith model output, not a dataset: pass --force/);
  t.deepEqual(await snapshot(out), model);
  r = await tweetsmith('dataset', archive, '--out', out, '--seed', '1', '--force');
  t.is(r.code, 0, r.stderr);
  t.true(existsSync(join(out, 'stats.json')));
  t.false(existsSync(join(out, 'model.safetensors')));

  // the user's file inside an output: refused even with --force, and kept
  await writeFile(join(out, 'my-notes.md'), 'keep me');
  const withNotes = await snapshot(out);
  r = await tweetsmith('init-model', '--size', 'tiny', '--out', out, '--force');
  t.not(r.code, 0);
  t.true(r.stderr.includes(join(out, 'my-notes.md')), r.stderr);
  t.deepEqual(await snapshot(out), withNotes);
});

test('a Hugging Face model folder tweetsmith did not write is not replaced, even though every name in it is a model\'s', async (t) => {
  const dir = scratch();
  const theirs = join(dir, 'downloaded-gpt2');
  const model = await GPT2.init({ nLayer: 1, nHead: 1, nEmbd: 8, nPositions: 8 }, { seed: 1, threads: 1 });
  await model.save(theirs);
  await model.dispose();
  await rename(join(theirs, '.tweetsmith-output.json'), join(dir, 'marker-elsewhere.json')); // as `save_pretrained` would have left it
  const before = await snapshot(theirs);
  const r = await tweetsmith('init-model', '--size', 'tiny', '--out', theirs, '--force');
  t.not(r.code, 0);
  t.regex(r.stderr, /is a model folder that tweetsmith did not write/);
  t.deepEqual(await snapshot(theirs), before);
});

test('train and dataset --out a foreign folder: refused before any work, files kept; train refuses a foreign OUT.checkpoint too', async (t) => {
  const dir = scratch();
  const out = join(dir, 'mine');
  await usersFolder(out);
  const before = await snapshot(out);
  // --base does not exist: the refusal must come first, before the base is even looked for
  let r = await tweetsmith('train', archive, '--base', join(dir, 'no-such-base'), '--out', out, '--max-steps', '1');
  t.not(r.code, 0);
  t.true(r.stderr.includes(join(out, 'notes.txt')) || r.stderr.includes(join(out, 'config.json')) || r.stderr.includes(join(out, 'photos')), r.stderr);
  t.deepEqual(await snapshot(out), before);

  r = await tweetsmith('dataset', archive, '--out', out);
  t.not(r.code, 0);
  t.regex(r.stderr, /tweetsmith did not write/);
  t.deepEqual(await snapshot(out), before);

  const checkpoint = join(dir, 'bot.checkpoint');
  await usersFolder(checkpoint);
  const ckptBefore = await snapshot(checkpoint);
  r = await tweetsmith('train', archive, '--base', join(dir, 'no-such-base'), '--out', join(dir, 'bot'), '--max-steps', '1');
  t.not(r.code, 0);
  t.true(r.stderr.includes('bot.checkpoint'), r.stderr);
  t.deepEqual(await snapshot(checkpoint), ckptBefore);
});

// ---------------------------------------------------------------- the library

test('a set-aside copy left by a killed replacement is loaded, then put back by the next write; stale staging is removed', async (t) => {
  const dir = scratch();
  const out = join(dir, 'model');
  const model = await GPT2.init({ nLayer: 1, nHead: 1, nEmbd: 8, nPositions: 8 }, { seed: 1, threads: 1 });
  try {
    await model.save(out);
    const saved = await weightsHash(out);
    // as a kill between "old → set-aside" and "staging → target" leaves it
    await rename(out, setAsidePath(out));
    await mkdir(join(dir, '.model.tweetsmith-staging-999999999'));
    await writeFile(join(dir, '.model.tweetsmith-staging-999999999', 'model.safetensors'), 'half');
    t.is(await locateOutput(out), setAsidePath(out));
    const loaded = await GPT2.load(out, { threads: 1 });
    t.deepEqual(loaded.config, model.config);
    await loaded.dispose();

    // a staging folder of a live process (this test's parent) is not touched
    const live = join(dir, `.model.tweetsmith-staging-${process.ppid}`);
    await mkdir(live);
    await writeOutputDir(out, 'model', {}, async (staging) => {
      t.is(await weightsHash(out), saved, 'the set-aside copy is back in place before the new one is written');
      await model.writeFiles(staging);
    });
    t.deepEqual((await readdir(dir)).sort(), [`.model.tweetsmith-staging-${process.ppid}`, 'model']);
  } finally {
    await model.dispose();
  }
});

test('a failing save leaves the previous model and no staging folder', async (t) => {
  const dir = scratch();
  const out = join(dir, 'model');
  const model = await GPT2.init({ nLayer: 1, nHead: 1, nEmbd: 8, nPositions: 8 }, { seed: 1, threads: 1 });
  try {
    await model.save(out);
    const before = await snapshot(out);
    await t.throwsAsync(model.save(out, { addFiles: async () => { throw new Error('disk full'); } }), { message: 'disk full' });
    t.deepEqual(await snapshot(out), before);
    t.deepEqual(await readdir(dir), ['model']);
  } finally {
    await model.dispose();
  }
});

test('tokenizer files from a base held as links (a hub cache\'s snapshot) are copied as content', async (t) => {
  const dir = scratch();
  await mkdir(join(dir, 'blobs'));
  await mkdir(join(dir, 'snapshot'));
  await writeFile(join(dir, 'blobs', 'abc'), '{"a": 0}');
  await symlink(join('..', 'blobs', 'abc'), join(dir, 'snapshot', 'vocab.json'));
  await mkdir(join(dir, 'out'));
  t.deepEqual(await copyTokenizerFiles(join(dir, 'snapshot'), join(dir, 'out')), ['vocab.json']);
  const copied = await lstat(join(dir, 'out', 'vocab.json'));
  t.true(copied.isFile() && !copied.isSymbolicLink());
  t.is(await readFile(join(dir, 'out', 'vocab.json'), 'utf8'), '{"a": 0}');
});

test('replaceFileSafely: a new file is written; an existing one only with force and only if tweetsmith wrote it; never a link', async (t) => {
  const dir = scratch();
  const file = join(dir, 'model.gguf');
  const ours = async (path: string) => (await readFile(path, 'utf8')).startsWith('GGUF tweetsmith');
  const write = (text: string) => async (temp: string) => writeFile(temp, text);
  await replaceFileSafely(file, { kind: 'GGUF file', isOurs: ours, write: write('GGUF tweetsmith 1') });
  t.is(await readFile(file, 'utf8'), 'GGUF tweetsmith 1');
  await t.throwsAsync(replaceFileSafely(file, { kind: 'GGUF file', isOurs: ours, write: write('GGUF tweetsmith 2') }), {
    instanceOf: OutputRefusedError,
    message: /already exists \(a GGUF file that tweetsmith wrote\): pass --force/,
  });
  await writeFile(join(dir, `.model.gguf.tweetsmith-staging-999999999`), 'junk of a killed run');
  await replaceFileSafely(file, { kind: 'GGUF file', force: true, isOurs: ours, write: write('GGUF tweetsmith 2') });
  t.is(await readFile(file, 'utf8'), 'GGUF tweetsmith 2');
  t.deepEqual(await readdir(dir), ['model.gguf']);

  const theirs = join(dir, 'theirs.gguf');
  await writeFile(theirs, 'GGUF from somewhere else');
  await t.throwsAsync(replaceFileSafely(theirs, { kind: 'GGUF file', force: true, isOurs: ours, write: write('x') }), {
    message: /not a GGUF file that tweetsmith wrote/,
  });
  t.is(await readFile(theirs, 'utf8'), 'GGUF from somewhere else');
  const link = join(dir, 'link.gguf');
  await symlink(file, link);
  await t.throwsAsync(replaceFileSafely(link, { kind: 'GGUF file', force: true, isOurs: ours, write: write('x') }), { message: /symbolic link/ });
  t.is(await readFile(file, 'utf8'), 'GGUF tweetsmith 2');
});

test('generate fails clearly when the model\'s tokenizer cannot be read; it does not use GPT-2\'s instead', async (t) => {
  const out = join(scratch(), 'model');
  const model = await GPT2.init({ nLayer: 1, nHead: 1, nEmbd: 8, nPositions: 16 }, { seed: 1, threads: 1 });
  await model.save(out);
  await model.dispose();
  await writeFile(join(out, 'tokenizer.json'), '{"model": {"vocab": ');
  const r = await tweetsmith('generate', '--model', out, 'Hello', '-n', '1', '--max-length', '8', '--json', '--threads', '1');
  t.not(r.code, 0);
  t.is(r.stdout, '');
  t.regex(r.stderr, /tokenizer cannot be read/);
  t.true(r.stderr.includes(join(out, 'tokenizer.json')), r.stderr);
});

test('outputs written before the marker existed are recognised by a file only tweetsmith writes, and replaced; one with a foreign file is not', async (t) => {
  const dir = scratch();
  const fill = (name: string) => async (staging: string) => writeFile(join(staging, name), 'new');
  // a trained model: its run record names tweetsmith
  const model = join(dir, 'model');
  await mkdir(join(model, 'run'), { recursive: true });
  for (const f of ['config.json', 'model.safetensors', 'vocab.json', 'README.md']) await writeFile(join(model, f), 'old');
  await writeFile(join(model, 'run', 'config.json'), JSON.stringify({ format: 'tweetsmith-run', formatVersion: 1 }));
  await writeFile(join(model, 'run', '.report.html.123-0a1b2c3d.tmp'), 'a run record write killed half-way');
  await writeOutputDir(model, 'model', {}, fill('config.json'));
  t.deepEqual((await readdir(model)).sort(), ['.tweetsmith-output.json', 'config.json']);
  // a dataset: stats.json says so
  const dataset = join(dir, 'dataset');
  await mkdir(dataset);
  await writeFile(join(dataset, 'stats.json'), JSON.stringify({ format: 'tweetsmith-dataset' }));
  await writeFile(join(dataset, 'train.bin'), 'old');
  await writeOutputDir(dataset, 'dataset', {}, fill('stats.json'));
  t.deepEqual((await readdir(dataset)).sort(), ['.tweetsmith-output.json', 'stats.json']);
  // a checkpoint: AdamW's state beside state.json; with a file of the user's in it, it is theirs
  const checkpoint = join(dir, 'bot.checkpoint');
  await mkdir(checkpoint);
  await writeFile(join(checkpoint, 'state.json'), JSON.stringify({ version: 1, step: 3 }));
  await writeFile(join(checkpoint, 'adam_m.safetensors'), 'old');
  await writeFile(join(checkpoint, 'todo.txt'), 'mine');
  await t.throwsAsync(writeOutputDir(checkpoint, 'checkpoint', { force: true }, fill('state.json')), { message: /todo\.txt is not part of one/ });
  t.is(await readFile(join(checkpoint, 'todo.txt'), 'utf8'), 'mine');
  t.deepEqual((await readdir(dir)).sort(), ['bot.checkpoint', 'dataset', 'model']);
});
