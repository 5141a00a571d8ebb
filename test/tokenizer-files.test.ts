// The tokenizer files of a model directory: what writeGpt2TokenizerFiles writes, reading them
// back with Tokenizer.fromDir, and the errors for missing or malformed files.
import test from 'ava';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer, TokenizerFileError, gpt2VocabPaths, writeGpt2TokenizerFiles } from '../lib/tokenizer/index.js';
import { makeTokenizerCorpus } from '../lib/bench/tokenizer-corpus.js';

const gpt2 = Tokenizer.gpt2();
const sample = makeTokenizerCorpus({ bytes: 150_000, seed: 7 });
const tempDirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tweetsmith-tokenizer-'));
  tempDirs.push(dir);
  return dir;
}

test.after.always(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A directory with GPT-2's files, less `without`. */
async function gpt2Dir(...without: string[]): Promise<string> {
  const dir = await tempDir();
  await writeGpt2TokenizerFiles(dir);
  for (const name of without) await rm(join(dir, name));
  return dir;
}

function assertSameEncodings(t: import('ava').ExecutionContext, loaded: Tokenizer): void {
  let mismatches = 0;
  for (const piece of sample) {
    const ids = loaded.encode(piece);
    if (ids.join() !== gpt2.encode(piece).join() || loaded.decode(ids) !== piece) mismatches++;
  }
  t.is(mismatches, 0, `${sample.length} pieces`);
  t.is(loaded.eosTokenId, 50256);
  t.is(loaded.vocabSize, 50257);
}

test('writeGpt2TokenizerFiles writes the Hugging Face GPT-2 tokenizer files, and nothing else', async (t) => {
  const dir = await gpt2Dir();
  t.deepEqual((await readdir(dir)).sort(), ['merges.txt', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.json']);
  const paths = gpt2VocabPaths();
  t.true((await readFile(join(dir, 'vocab.json'))).equals(await readFile(paths.vocab)));
  const merges = await readFile(join(dir, 'merges.txt'), 'utf8');
  t.true(merges.startsWith('#version: 0.2\nĠ t\n'));
  const config = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8'));
  t.like(config, { model_max_length: 1024, bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>', tokenizer_class: 'GPT2Tokenizer', add_prefix_space: false });
  const special = JSON.parse(await readFile(join(dir, 'special_tokens_map.json'), 'utf8'));
  t.deepEqual(special, { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>' });
  const json = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8'));
  t.deepEqual(json.pre_tokenizer, { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true });
  t.is(json.decoder.type, 'ByteLevel');
  t.is(json.post_processor.type, 'ByteLevel');
  t.is(json.model.type, 'BPE');
  t.is(Object.keys(json.model.vocab).length, 50257);
  t.is(json.model.merges.length, 50000);
  t.is(json.model.merges[0], 'Ġ t');
  t.like(json.added_tokens[0], { id: 50256, content: '<|endoftext|>', special: true });
  // The vocabulary in id order, as on the hub (a JS object would put "0", "1", … first).
  const text = await readFile(join(dir, 'tokenizer.json'), 'utf8');
  t.true(text.includes('"vocab": {\n      "!": 0,\n      "\\"": 1,\n'));
});

test('fromDir reads tokenizer.json and encodes as GPT-2', async (t) => {
  assertSameEncodings(t, await Tokenizer.fromDir(await gpt2Dir('vocab.json', 'merges.txt')));
});

test('fromDir reads vocab.json + merges.txt and encodes as GPT-2', async (t) => {
  assertSameEncodings(t, await Tokenizer.fromDir(await gpt2Dir('tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json')));
});

test('writing over an existing directory leaves no temporary files', async (t) => {
  const dir = await gpt2Dir();
  await writeGpt2TokenizerFiles(dir);
  t.false((await readdir(dir)).some((name) => name.endsWith('.tmp')));
});

// ---------------------------------------------------------------------------------------------
// Errors name the file and say what is wrong.

async function fromDirError(t: import('ava').ExecutionContext, dir: string, message: RegExp): Promise<void> {
  const error = await t.throwsAsync(Tokenizer.fromDir(dir), { instanceOf: TokenizerFileError, message });
  t.log(error?.message);
}

test('an empty directory: no tokenizer here', async (t) => {
  const dir = await tempDir();
  await fromDirError(t, dir, /no tokenizer here: expected vocab\.json and merges\.txt, or tokenizer\.json/);
});

test('a missing merges.txt is named', async (t) => {
  const dir = await gpt2Dir('tokenizer.json', 'merges.txt');
  await fromDirError(t, dir, /merges\.txt: file not found/);
});

test('bad JSON in vocab.json is named', async (t) => {
  const dir = await gpt2Dir('tokenizer.json');
  await writeFile(join(dir, 'vocab.json'), '{"a": 1,');
  await fromDirError(t, dir, /vocab\.json: bad JSON/);
});

test('a vocab.json that is not token → id is named', async (t) => {
  const dir = await gpt2Dir('tokenizer.json');
  await writeFile(join(dir, 'vocab.json'), '{"a": "one"}');
  await fromDirError(t, dir, /vocab\.json: .*token "a" has id "one"/);
});

test('a malformed merge line is named with its line number', async (t) => {
  const dir = await gpt2Dir('tokenizer.json');
  const lines = (await readFile(join(dir, 'merges.txt'), 'utf8')).split('\n');
  lines[4] = 'Ġthe'; // line 5: one token, no pair
  await writeFile(join(dir, 'merges.txt'), lines.join('\n'));
  await fromDirError(t, dir, /merges\.txt: line 5: malformed merge "Ġthe"/);
});

test('a merge of tokens that are not in the vocabulary is named with its line number', async (t) => {
  const dir = await gpt2Dir('tokenizer.json');
  const lines = (await readFile(join(dir, 'merges.txt'), 'utf8')).split('\n');
  lines[2] = 'Ġ zzzzqqq';
  await writeFile(join(dir, 'merges.txt'), lines.join('\n'));
  await fromDirError(t, dir, /merges\.txt: line 3: merge "Ġ zzzzqqq" uses "zzzzqqq", which is not in the vocabulary/);
});

test('bad JSON in tokenizer.json is named', async (t) => {
  const dir = await gpt2Dir();
  await writeFile(join(dir, 'tokenizer.json'), '{');
  await fromDirError(t, dir, /tokenizer\.json: bad JSON/);
});

test('a tokenizer.json that is not GPT-2\'s pipeline is refused, saying which part', async (t) => {
  const dir = await gpt2Dir();
  const json = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8'));
  json.pre_tokenizer = { type: 'Whitespace' };
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(json));
  await fromDirError(t, dir, /tokenizer\.json: unsupported pre_tokenizer \{"type":"Whitespace"\}/);
  json.pre_tokenizer = { type: 'ByteLevel', add_prefix_space: true };
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(json));
  await fromDirError(t, dir, /add_prefix_space: true/);
});

test('a tokenizer.json merge in the newer ["a", "b"] form is read too; a bad one is named', async (t) => {
  const dir = await gpt2Dir();
  const json = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8'));
  json.model.merges = json.model.merges.map((m: string) => m.split(' '));
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(json));
  const loaded = await Tokenizer.fromDir(dir);
  t.deepEqual(loaded.encode('Hello world'), [15496, 995]);
  json.model.merges[7] = ['a'];
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(json));
  await fromDirError(t, dir, /tokenizer\.json: model\.merges\[7\]: malformed merge \["a"\]/);
});
