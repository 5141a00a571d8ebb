// Validated before use: a model's config, a tokenizer's ids, thread counts and the
// CLI's size options are bounded before anything is allocated, with errors that
// name the file and field, or the option. (The engine's own checks:
// native-arguments.test.ts; fuzzing: fuzz-native.test.ts, fuzz-parsers.test.ts.)
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GPT2, Tokenizer } from '../lib/index.js';
import { configToHF, PRESETS } from '../lib/model/config.js';
import { BYTE_TO_CHAR } from '../lib/tokenizer/byte-level.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tweetsmith-validate-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A model folder whose config.json is tiny's with `changes`; no weights are needed to refuse it. */
async function modelDirWith(t: Parameters<typeof tempDir>[0], changes: Record<string, unknown>): Promise<string> {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'config.json'), JSON.stringify({ ...configToHF(PRESETS.tiny), ...changes }));
  await writeFile(join(dir, 'model.safetensors'), '');
  return dir;
}

test('an absurd n_embd in config.json is refused before anything is allocated, naming the file and the field', async (t) => {
  for (const nEmbd of [2 ** 31, 2 ** 40, 1e300]) {
    const dir = await modelDirWith(t, { n_embd: nEmbd, n_head: 1 });
    const err = await t.throwsAsync(GPT2.load(dir, { threads: 1 }));
    t.true(err!.message.includes(join(dir, 'config.json')), err!.message);
    t.regex(err!.message, /n_embd is .*more than the 65536 tweetsmith supports/);
  }
});

test('n_layer, n_positions and vocab_size beyond the bounds are refused, naming the field', async (t) => {
  for (const [field, value] of [['n_layer', 5000], ['n_positions', 2 ** 21], ['n_ctx', 2 ** 40], ['vocab_size', 2 ** 25]] as const) {
    const changes: Record<string, unknown> = { [field]: value };
    if (field === 'n_ctx') changes.n_positions = undefined;
    const dir = await modelDirWith(t, changes);
    const err = await t.throwsAsync(GPT2.load(dir, { threads: 1 }));
    t.true(err!.message.includes('config.json'), err!.message);
    t.regex(err!.message, new RegExp(`${field === 'n_ctx' ? 'n_positions' : field} is \\d+, more than`));
  }
});

test('a config whose weights alone need more memory than the machine has is refused before allocating', async (t) => {
  // within every bound, but 12·65536²·48 floats (≈ 10 TB)
  const dir = await modelDirWith(t, { n_embd: 65536, n_head: 16, n_layer: 48 });
  const err = await t.throwsAsync(GPT2.load(dir, { threads: 1 }));
  t.true(err!.message.includes(join(dir, 'config.json')), err!.message);
  t.regex(err!.message, /the weights alone need [\d.]+ GiB, more than this machine's [\d.]+ GiB of memory/);
});

test('token ids and the layer-norm epsilon must be ones the engine can hold', async (t) => {
  for (const [field, value, why] of [
    ['eos_token_id', 2 ** 40, /eos_token_id must be a token id/],
    ['bos_token_id', -1, /bos_token_id must be a token id/],
    ['layer_norm_epsilon', 1e-300, /layer_norm_epsilon must be a number in \(0, 1\) that float32 holds/],
  ] as const) {
    const dir = await modelDirWith(t, { [field]: value });
    const err = await t.throwsAsync(GPT2.load(dir, { threads: 1 }));
    t.true(err!.message.includes('config.json'), err!.message);
    t.regex(err!.message, why);
  }
});

test('threads is bounded in GPT2.init and setThreads (GPT2.load takes the same check)', async (t) => {
  const tiny = { nLayer: 1, nHead: 1, nEmbd: 8, nPositions: 8, vocabSize: 16 };
  for (const threads of [0, -1, 1.5, 257, 1e9, Number.NaN]) {
    const err = await t.throwsAsync(GPT2.init(tiny, { threads }), { instanceOf: RangeError });
    t.regex(err!.message, /threads must be a whole number from 1 to 256/);
  }
  const model = await GPT2.init(tiny, { threads: 1 });
  t.teardown(() => model.dispose());
  await t.throwsAsync(model.setThreads(100_000), { message: /threads must be a whole number from 1 to 256/ });
  t.is(model.threads, 1);
  await model.setThreads(2);
  t.is(model.threads, 2);
});

test('a tokenizer id too large for the id tables is an error naming the file and the token', async (t) => {
  const dir = await tempDir(t);
  const vocab: Record<string, number> = {};
  BYTE_TO_CHAR.forEach((token, id) => (vocab[token] = id));
  vocab['<|endoftext|>'] = 2 ** 53;
  await writeFile(join(dir, 'vocab.json'), JSON.stringify(vocab));
  await writeFile(join(dir, 'merges.txt'), '#version: 0.2\n');
  const err = await t.throwsAsync(Tokenizer.fromDir(dir));
  t.true(err!.message.includes(join(dir, 'vocab.json')), err!.message);
  t.regex(err!.message, /token "<\|endoftext\|>" has id 9007199254740992, not a token id \(an integer from 0 to 16777215\)/);
});

test('an added token may not take the id of another token', async (t) => {
  const dir = await tempDir(t);
  const vocab: Record<string, number> = {};
  BYTE_TO_CHAR.forEach((token, id) => (vocab[token] = id));
  vocab['<|endoftext|>'] = 256;
  await writeFile(join(dir, 'vocab.json'), JSON.stringify(vocab));
  await writeFile(join(dir, 'merges.txt'), '#version: 0.2\n');
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({ added_tokens_decoder: { '65': { content: '<pad>', special: true } } }));
  const err = await t.throwsAsync(Tokenizer.fromDir(dir));
  t.regex(err!.message, /added token "<pad>" has id 65, which is already "A"/);
});

function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'bin', 'tweetsmith.js'), ...args], { cwd: ROOT, timeout: 120_000 }, (err, _stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr });
    });
  });
}

test('the CLI bounds every size option before anything is allocated, naming the option', async (t) => {
  const dir = await tempDir(t);
  const cases: Array<[string[], RegExp]> = [
    [['init-model', '--out', join(dir, 'm'), '--n-embd', '4294967296'], /--n-embd.*expected a whole number from 1 to 65536/],
    [['init-model', '--out', join(dir, 'm'), '--threads', '100000'], /--threads.*expected a whole number from 1 to 256/],
    [['generate', '--model', dir, '-n', '1000000'], /-n.*expected a whole number from 1 to 4096/],
    [['train', 'x.txt', '--out', join(dir, 'o'), '--weight-decay', 'abc'], /--weight-decay.*expected a number ≥ 0/],
  ];
  for (const [args, message] of cases) {
    const { code, stderr } = await cli(args);
    t.not(code, 0, args.join(' '));
    t.regex(stderr, message, args.join(' '));
  }
});
