// Property-based fuzzing of the TypeScript parsers of model files: config.json
// (configFromHF, readModelConfig), safetensors (readSafetensorsHeader /
// decodeSafetensors) and the tokenizer files (vocab.json, merges.txt,
// tokenizer.json, tokenizer_config.json through Tokenizer.fromDir). The property,
// for every input: a valid result, or an Error whose message names the file.
// (The engine's parsers are fuzzed in test/fuzz-native.test.ts.)
import test from 'ava';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { MAX_TOKEN_ID, parameterCount, SHAPE_LIMITS } from '../lib/limits.js';
import { join } from 'node:path';
import { configFromHF, configToHF, validateConfig, type GPT2Config } from '../lib/model/config.js';
import { readModelConfig } from '../lib/model/model-dir.js';
import { decodeSafetensors, readSafetensorsHeader } from '../lib/model/safetensors.js';
import { BYTE_TO_CHAR } from '../lib/tokenizer/byte-level.js';
import { Tokenizer } from '../lib/tokenizer/index.js';

// Fixed, so a failure replays; TWEETSMITH_FUZZ_SEED explores others.
const SEED = Number(process.env.TWEETSMITH_FUZZ_SEED ?? 7);
const RUNS = 300;

const EDGE_NUMBERS = [0, -0, 1, 2, 4, 8, 12, 768, 1024, 1025, -1, 0.5, 1.5, 1e-5, 1e-300, 65536, 65537, 2 ** 20, 2 ** 24, 2 ** 24 + 1, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 63, 1e308, -1e308];
const hostile = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...EDGE_NUMBERS) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.constantFrom('gpt2', 'gelu_new', 'bert', '', '4', '__proto__', 'constructor') },
);

/** Ids and sizes that an unchecked parser would use to size a table. */
const hugeNumber = fc.constantFrom(2 ** 24, 2 ** 32, 2 ** 53, 2 ** 63, 1e308);

/** An accepted config is within the bounds, holds in float32, and its weights fit in this machine. */
function checkBounds(c: GPT2Config): void {
  const within = c.nLayer <= SHAPE_LIMITS.nLayer && c.nHead <= SHAPE_LIMITS.nHead && c.nEmbd <= SHAPE_LIMITS.nEmbd &&
    c.nPositions <= SHAPE_LIMITS.nPositions && c.vocabSize <= SHAPE_LIMITS.vocabSize && Math.fround(c.layerNormEpsilon) > 0 &&
    c.eosTokenId <= MAX_TOKEN_ID && c.bosTokenId <= MAX_TOKEN_ID && parameterCount(c) * 4 <= totalmem();
  if (!within) throw new Error(`accepted a config out of bounds: ${JSON.stringify(c)}`);
}

function namesFile(err: unknown, file: string): boolean {
  return err instanceof Error && err.message.includes(file);
}

function withDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'tweetsmith-fuzz-'));
  return run(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

// ---------------------------------------------------------------- config.json

const TINY: GPT2Config = { nLayer: 2, nHead: 2, nEmbd: 64, nPositions: 128, vocabSize: 300, layerNormEpsilon: 1e-5, bosTokenId: 299, eosTokenId: 299 };
const CONFIG_FIELDS = ['n_layer', 'n_head', 'n_embd', 'n_positions', 'n_ctx', 'vocab_size', 'layer_norm_epsilon', 'bos_token_id', 'eos_token_id', 'model_type', 'activation_function', 'n_inner'];

const configEdits = fc.array(
  fc.record({ field: fc.oneof(fc.constantFrom(...CONFIG_FIELDS), fc.string({ maxLength: 6 })), value: fc.option(fc.oneof(hostile, hugeNumber), { nil: undefined, freq: 6 }) }),
  { minLength: 1, maxLength: 5 },
);

test(`config.json: ${RUNS} edited configs give a valid config or an error naming the file`, (t) => {
  const file = '/models/fuzz/config.json';
  fc.assert(
    fc.property(configEdits, (edits) => {
      const json: Record<string, unknown> = { ...configToHF(TINY) };
      for (const { field, value } of edits) {
        if (value === undefined) delete json[field];
        else json[field] = value;
      }
      let config: GPT2Config;
      try {
        config = configFromHF(json, file);
      } catch (err) {
        if (!namesFile(err, file)) throw new Error(`unclear error: ${String(err)}`);
        return;
      }
      validateConfig({ ...config }); // what was accepted is a valid shape
      checkBounds(config);
    }),
    { numRuns: RUNS, seed: SEED },
  );
  t.pass();
});

test(`config.json: ${RUNS} arbitrary files give a valid config or an error naming the file`, async (t) => {
  await withDir(async (dir) => {
    const file = join(dir, 'config.json');
    const text = JSON.stringify(configToHF(TINY));
    const contents = fc.oneof(
      fc.json({ maxDepth: 3 }),
      fc.string({ maxLength: 40, unit: 'binary' }),
      fc.array(fc.record({ at: fc.nat({ max: text.length - 1 }), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }).map((flips) => {
        const b = Buffer.from(text);
        for (const { at, byte } of flips) b[at] = byte;
        return b.toString('latin1');
      }),
    );
    await fc.assert(
      fc.asyncProperty(contents, async (c) => {
        writeFileSync(file, c, 'latin1');
        try {
          const { config } = await readModelConfig(dir);
          validateConfig({ ...config });
          checkBounds(config);
        } catch (err) {
          if (!namesFile(err, file)) throw new Error(`unclear error: ${String(err)}`);
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
  t.pass();
});

// ---------------------------------------------------------------- safetensors

function safetensorsBytes(header: unknown, data: Buffer, length?: bigint): Buffer {
  const text = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const out = Buffer.alloc(8 + text.length + data.length);
  out.writeBigUInt64LE(length ?? BigInt(text.length), 0);
  text.copy(out, 8);
  data.copy(out, 8 + text.length);
  return out;
}

const VALID_HEADER = {
  __metadata__: { format: 'pt' },
  'a.weight': { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] },
  'b.bias': { dtype: 'F16', shape: [4], data_offsets: [24, 32] },
  'c.bf': { dtype: 'BF16', shape: [2], data_offsets: [32, 36] },
};
const VALID_DATA = Buffer.alloc(36, 0x3c);

test(`safetensors: ${RUNS * 2} mutated files give tensors that match their header or an error naming the file`, (t) => {
  const file = '/models/fuzz/model.safetensors';
  const valid = safetensorsBytes(VALID_HEADER, VALID_DATA);
  t.is(decodeSafetensors(valid, file).size, 3, 'the unmutated file reads');
  const names = Object.keys(VALID_HEADER);
  const headerEdit = fc.record({
    name: fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 4 })),
    field: fc.constantFrom('dtype', 'shape', 'data_offsets', '(entry)', '(delete)'),
    value: fc.oneof(hostile, fc.array(fc.constantFrom(...EDGE_NUMBERS), { maxLength: 4 }), fc.constantFrom('F32', 'F64', 'I8', 'Q4')),
  });
  const cases = fc.oneof(
    fc.array(headerEdit, { minLength: 1, maxLength: 3 }).map((edits) => {
      const h: Record<string, unknown> = structuredClone(VALID_HEADER);
      for (const { name, field, value } of edits) {
        if (field === '(delete)') delete h[name];
        else if (field === '(entry)') h[name] = value;
        else h[name] = { ...(typeof h[name] === 'object' && h[name] !== null ? h[name] : {}), [field]: value };
      }
      return safetensorsBytes(h, VALID_DATA);
    }),
    fc.array(fc.record({ at: fc.nat({ max: valid.length - 1 }), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 8 }).map((flips) => {
      const b = Buffer.from(valid);
      for (const { at, byte } of flips) b[at] = byte;
      return b;
    }),
    fc.nat({ max: valid.length }).map((n) => valid.subarray(0, n)),
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((n) => safetensorsBytes(VALID_HEADER, VALID_DATA, n)),
    fc.json({ maxDepth: 3 }).map((text) => safetensorsBytes(text, VALID_DATA)),
    fc.uint8Array({ maxLength: 128 }).map((b) => Buffer.from(b)),
  );
  fc.assert(
    fc.property(cases, (bytes) => {
      let tensors;
      try {
        tensors = decodeSafetensors(bytes, file);
      } catch (err) {
        if (!namesFile(err, file)) throw new Error(`unclear error: ${String(err)}`);
        return;
      }
      const { records } = readSafetensorsHeader(bytes, file);
      for (const [name, tensor] of tensors) {
        t.deepEqual(tensor.shape, records.get(name)!.shape);
        t.is(tensor.data.length, tensor.shape.reduce((a, b) => a * b, 1));
      }
    }),
    { numRuns: RUNS * 2, seed: SEED },
  );
});

// ---------------------------------------------------------------- tokenizer files

// A byte-level BPE small enough to build hundreds of times: the 256 byte tokens,
// a few merges, and <|endoftext|>.
const BYTE_TOKENS = Array.from({ length: 256 }, (_, b) => BYTE_TO_CHAR[b]!);
const MERGES: Array<[string, string]> = [['Ġ', 't'], ['h', 'e'], ['Ġt', 'he'], ['l', 'l'], ['e', 'll']];
function tinyVocab(): Record<string, number> {
  const vocab: Record<string, number> = {};
  BYTE_TOKENS.forEach((token, id) => (vocab[token] = id));
  MERGES.forEach(([a, b], i) => (vocab[a + b] = 256 + i));
  vocab['<|endoftext|>'] = 256 + MERGES.length;
  return vocab;
}
const EOT = 256 + MERGES.length;

const TEXTS = ['the hello world', ' the', 'héllo <|endoftext|> 🙂', ''];

async function checkTokenizer(dir: string): Promise<void> {
  let tokenizer: Tokenizer;
  try {
    tokenizer = await Tokenizer.fromDir(dir);
  } catch (err) {
    if (!namesFile(err, dir)) throw new Error(`unclear error: ${String(err)}`);
    return;
  }
  // what was accepted tokenizes: ids in range, and decoding gives a string back
  for (const text of TEXTS) {
    const ids = tokenizer.encode(text);
    if (!ids.every((id) => Number.isInteger(id) && id >= 0 && id < tokenizer.vocabSize)) throw new Error(`ids out of range: ${ids}`);
    if (typeof tokenizer.decode(ids) !== 'string') throw new Error('decode did not give a string');
  }
}

const entryEdits = fc.array(
  fc.record({ key: fc.oneof(fc.constantFrom('Ġ', 't', 'Ġt', 'he', '<|endoftext|>', 'new'), fc.string({ maxLength: 4 })), value: fc.option(fc.oneof(hostile, hugeNumber), { nil: undefined, freq: 5 }) }),
  { minLength: 1, maxLength: 4 },
);
const mergeLines = fc.array(fc.oneof(fc.constantFrom('Ġ t', 'h e', 'a b c', '', ' ', 'x', 'Ġt he', '#version: 0.2', 'zz yy'), fc.string({ maxLength: 6 })), { maxLength: 6 });
const addedDecoder = fc.dictionary(
  fc.oneof(fc.constantFrom(String(EOT), '0', '300', '-1', '1e3', '16777216', '9007199254740993'), fc.string({ maxLength: 4 })),
  fc.oneof(fc.record({ content: fc.oneof(fc.constantFrom('<|endoftext|>', '<pad>', '', 'he'), fc.string({ maxLength: 4 })), special: fc.oneof(fc.boolean(), hostile) }), hostile),
  { maxKeys: 3 },
);

test(`vocab.json + merges.txt + tokenizer_config.json: ${RUNS} mutated sets give a working tokenizer or an error naming the file`, async (t) => {
  await withDir(async (root) => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(entryEdits, mergeLines, fc.option(addedDecoder, { nil: undefined }), async (edits, extraMerges, decoder) => {
        const dir = join(root, String(n++));
        mkdirSync(dir);
        const vocab: Record<string, unknown> = tinyVocab();
        for (const { key, value } of edits) {
          if (value === undefined) delete vocab[key];
          else vocab[key] = value;
        }
        writeFileSync(join(dir, 'vocab.json'), JSON.stringify(vocab));
        writeFileSync(join(dir, 'merges.txt'), ['#version: 0.2', ...MERGES.map((m) => m.join(' ')), ...extraMerges].join('\n') + '\n');
        if (decoder !== undefined) writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ added_tokens_decoder: decoder }));
        await checkTokenizer(dir);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
  t.pass();
});

test(`tokenizer.json: ${RUNS} mutated files give a working tokenizer or an error naming the file`, async (t) => {
  const base = () => ({
    version: '1.0',
    added_tokens: [{ id: EOT, content: '<|endoftext|>', special: true } as unknown],
    normalizer: null as unknown,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, use_regex: true } as unknown,
    model: { type: 'BPE', vocab: tinyVocab() as unknown, merges: MERGES.map((m) => m.join(' ')) as unknown } as Record<string, unknown>,
  });
  const edit = fc.record({
    path: fc.constantFrom('added_tokens', 'added_tokens.0', 'added_tokens.0.id', 'normalizer', 'pre_tokenizer', 'pre_tokenizer.add_prefix_space', 'model', 'model.type', 'model.vocab', 'model.merges', 'model.merges.0', 'model.dropout', 'model.vocab.Ġt', 'model.vocab.<|endoftext|>'),
    value: fc.option(fc.oneof(hostile, hugeNumber), { nil: undefined, freq: 5 }),
  });
  await withDir(async (root) => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 3 }), async (edits) => {
        const dir = join(root, String(n++));
        mkdirSync(dir);
        const json: Record<string, unknown> = base();
        for (const { path, value } of edits) {
          const keys = path.split('.');
          let at: unknown = json;
          for (const key of keys.slice(0, -1)) at = typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[key] : undefined;
          if (typeof at !== 'object' || at === null) continue;
          const last = keys[keys.length - 1]!;
          if (value === undefined) delete (at as Record<string, unknown>)[last];
          else (at as Record<string, unknown>)[last] = value;
        }
        writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
        await checkTokenizer(dir);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
  t.pass();
});
