// Property-based fuzzing of the engine's parsers: safetensors files (read by the
// native loader) and config.json (read by GPT2.load, which builds the native model
// from it). The property, for every input: a clear Error (an Error whose message
// names the file) or a valid result, and never a crash. A crash kills this process,
// so the caller (test/fuzz-native.test.ts, or `npm run fuzz`) sees it with the seed,
// printed first on stderr: the same seed and count replay the same cases, and
// TWEETSMITH_FUZZ_TRACE=1 prints each case before it runs.
//
//   node --import=tsx scripts/fuzz.mjs [--cases N] [--seed S] [--parser safetensors|config|all]
//   npm run fuzz                       (TWEETSMITH_FUZZ_CASES, default 100000 per parser)
//
// Prints one JSON line per parser: {"parser", "cases", "ok", "errors", "seconds", "seed"}.
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GPT2 } from '../lib/engine/gpt2.ts';
import { loadNative } from '../lib/engine/native.ts';
import { configToHF, validateConfig } from '../lib/model/config.ts';
import { readSafetensorsHeader } from '../lib/model/safetensors.ts';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : fallback;
};
const cases = Number(option('cases', process.env.TWEETSMITH_FUZZ_CASES ?? 100_000));
const seed = Number(option('seed', process.env.TWEETSMITH_FUZZ_SEED ?? Date.now() % 2 ** 31));
const which = option('parser', 'all');
const trace = process.env.TWEETSMITH_FUZZ_TRACE === '1';
if (!Number.isSafeInteger(cases) || cases < 1) throw new Error(`--cases must be a positive integer, got ${option('cases')}`);

// The smallest GPT-2 there is: every case stays cheap, and a file is ~1 KB.
const MICRO = { nLayer: 1, nHead: 1, nEmbd: 4, nPositions: 4, vocabSize: 8, layerNormEpsilon: 1e-5, bosTokenId: 7, eosTokenId: 7 };

// Numbers that sit on the edges of every check: zero, signs, fractions, the
// limits and one past them, 2^31/2^32/2^53/2^63/2^64, and the extremes of a double.
const EDGE_NUMBERS = [
  0, -0, 1, 2, 3, 4, 7, 8, 9, 16, 64, 1024, 1025, -1, -8, 0.5, 1.5, 4.000001, 1e-300, 65536, 65537, 2 ** 20, 2 ** 20 + 1,
  2 ** 24, 2 ** 24 + 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 32 + 4, 2 ** 53, 2 ** 53 + 2, 2 ** 62, 2 ** 63, 2 ** 64, 1e308, -1e308,
];
const edgeNumber = fc.constantFrom(...EDGE_NUMBERS);
// Values a hostile file may hold where a number is expected: edge numbers, any JSON, numbers as text.
const hostileValue = fc.oneof(
  { weight: 5, arbitrary: edgeNumber },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: edgeNumber.map((n) => String(n)) },
  { weight: 1, arbitrary: fc.array(edgeNumber, { maxLength: 6 }) },
);

/** A case as fast-check prints it in a counterexample: what was done, and the start of the bytes. */
function fuzzCase(kind, fields) {
  const shown = fields.bytes ?? Buffer.from(fields.text ?? '');
  return { kind, ...fields, [fc.toStringMethod]: () => `${kind} [${shown.length} bytes: ${shown.toString('hex').slice(0, 240)}…]` };
}

/** The error the property accepts: an Error with a message that names `file`. */
function checkError(err, file, describeCase) {
  if (!(err instanceof Error) || typeof err.message !== 'string' || !err.message.includes(file)) {
    const what = err instanceof Error ? `${err.name}: ${err.message}` : `a non-Error: ${String(err)}`;
    throw new Error(`an unclear error for ${describeCase()}: ${what}`);
  }
}

// ---------------------------------------------------------------- safetensors

function splitSafetensors(bytes) {
  const n = Number(bytes.readBigUInt64LE(0));
  return { header: JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')), data: bytes.subarray(8 + n) };
}

function joinSafetensors(headerText, data, lengthOverride) {
  const header = Buffer.from(headerText, 'utf8');
  const out = Buffer.alloc(8 + header.length + data.length);
  out.writeBigUInt64LE(lengthOverride ?? BigInt(header.length), 0);
  header.copy(out, 8);
  data.copy(out, 8 + header.length);
  return out;
}

function safetensorsCases(valid) {
  const { header, data } = splitSafetensors(valid);
  const names = Object.keys(header);
  // one edit of the header object: a field of a tensor (or the entry, or __metadata__) set to a hostile value, or removed
  const edit = fc.record({
    name: fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 8 })),
    field: fc.constantFrom('dtype', 'shape', 'data_offsets', 'data_offsets.0', 'data_offsets.1', 'shape.0', 'shape.1', '(entry)', '(delete)'),
    value: fc.oneof(hostileValue, fc.constantFrom('F32', 'F16', 'BF16', 'F64', 'I8', 'U8', 'BOOL', 'Q4')),
  });
  // or a number of a tensor's shape or offsets moved a little: by a fraction, by one, by 2^32
  const nudge = fc.record({
    name: fc.constantFrom(...names.filter((n) => n !== '__metadata__')),
    field: fc.constantFrom('shape.0', 'shape.1', 'data_offsets.0', 'data_offsets.1'),
    delta: fc.constantFrom(0.5, -0.5, 1e-9, 0.25, 1, -1, 2, 2 ** 32, 2 ** 53),
  });
  const headerEdits = fc.array(fc.oneof(edit, nudge), { minLength: 1, maxLength: 4 }).map((edits) => {
    const h = structuredClone(header);
    for (const { name, field, value, delta } of edits) {
      if (delta !== undefined) {
        const [key, index] = field.split('.');
        const list = h[name]?.[key];
        if (Array.isArray(list) && typeof list[Number(index)] === 'number') list[Number(index)] += delta;
        continue;
      }
      if (field === '(delete)') delete h[name];
      else if (field === '(entry)') h[name] = value;
      else {
        const entry = (h[name] = h[name] && typeof h[name] === 'object' ? h[name] : {});
        const [key, index] = field.split('.');
        if (index === undefined) entry[key] = value;
        else (entry[key] = Array.isArray(entry[key]) ? entry[key] : [])[Number(index)] = value;
      }
    }
    return fuzzCase(`header edits ${JSON.stringify(edits).slice(0, 300)}`, { bytes: joinSafetensors(JSON.stringify(h), data) });
  });
  const byteFlips = fc
    .array(fc.record({ at: fc.nat({ max: valid.length - 1 }), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 8 })
    .map((flips) => {
      const bytes = Buffer.from(valid);
      for (const { at, byte } of flips) bytes[at] = byte;
      return fuzzCase(`bytes changed ${JSON.stringify(flips)}`, { bytes });
    });
  const lengthPrefix = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((n) => fuzzCase(`header length ${n}`, { bytes: joinSafetensors(JSON.stringify(header), data, n) }));
  const truncated = fc.nat({ max: valid.length - 1 }).map((n) => fuzzCase(`truncated to ${n} bytes`, { bytes: valid.subarray(0, n) }));
  const headerText = fc
    .oneof(fc.json({ maxDepth: 3 }), fc.string({ maxLength: 64, unit: 'binary' }), fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1')))
    .map((text) => fuzzCase(`header ${JSON.stringify(text).slice(0, 80)}`, { bytes: joinSafetensors(text, data) }));
  const rawHeaderBytes = fc.uint8Array({ maxLength: 96 }).map((b) => {
    const out = Buffer.alloc(8 + b.length + data.length);
    out.writeBigUInt64LE(BigInt(b.length), 0);
    Buffer.from(b).copy(out, 8);
    data.copy(out, 8 + b.length);
    return fuzzCase('raw header bytes', { bytes: out });
  });
  const random = fc.uint8Array({ maxLength: 256 }).map((b) => fuzzCase('random bytes', { bytes: Buffer.from(b) }));
  return fc.oneof(
    { weight: 6, arbitrary: headerEdits },
    { weight: 3, arbitrary: byteFlips },
    { weight: 1, arbitrary: lengthPrefix },
    { weight: 1, arbitrary: truncated },
    { weight: 2, arbitrary: headerText },
    { weight: 1, arbitrary: rawHeaderBytes },
    { weight: 1, arbitrary: random },
  );
}

async function fuzzSafetensors(work, valid, count) {
  // one native model for every case: the loader is what is fuzzed, not model creation
  const native = new (loadNative().Model)(MICRO, 1, { device: 'CPU' });
  const file = join(work, 'model.safetensors');
  let ok = 0, errors = 0;
  try {
    await fc.assert(
      fc.asyncProperty(safetensorsCases(valid), async (c) => {
        if (trace) process.stderr.write(`safetensors case: ${c.kind} ${c.bytes.toString('hex').slice(0, 400)}\n`);
        writeFileSync(file, c.bytes);
        try {
          await native.load(file);
        } catch (err) {
          errors++;
          checkError(err, file, () => c.kind);
          return;
        }
        // what the engine accepted is a well-formed file: the TypeScript reader, which
        // checks the format's rules on its own, accepts its header too
        try {
          readSafetensorsHeader(c.bytes, file);
        } catch (err) {
          throw new Error(`the engine loaded a malformed file (${c.kind}): ${err.message}`);
        }
        ok++;
      }),
      { numRuns: count, seed, endOnFailure: true },
    );
  } finally {
    native.dispose();
  }
  return { ok, errors };
}

// ---------------------------------------------------------------- config.json

const CONFIG_FIELDS = ['n_layer', 'n_head', 'n_embd', 'n_positions', 'n_ctx', 'vocab_size', 'layer_norm_epsilon', 'bos_token_id', 'eos_token_id', 'model_type', 'activation_function', 'n_inner'];

function configCases(valid) {
  const edit = fc.record({
    field: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...CONFIG_FIELDS) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }),
    value: fc.option(hostileValue, { nil: undefined, freq: 8 }),
  });
  const edits = fc.array(edit, { minLength: 1, maxLength: 4 }).map((list) => {
    const c = { ...valid };
    for (const { field, value } of list) {
      if (value === undefined) delete c[field];
      else c[field] = value;
    }
    return fuzzCase(`config edits ${JSON.stringify(list).slice(0, 200)}`, { text: JSON.stringify(c) });
  });
  const whole = fc.jsonValue({ maxDepth: 2 }).map((v) => fuzzCase(`config ${JSON.stringify(v).slice(0, 120)}`, { text: JSON.stringify(v) }));
  const text = JSON.stringify(valid);
  const bytes = fc
    .array(fc.record({ at: fc.nat({ max: text.length - 1 }), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 })
    .map((flips) => {
      const b = Buffer.from(text, 'utf8');
      for (const { at, byte } of flips) b[at] = byte;
      return fuzzCase(`config bytes changed ${JSON.stringify(flips)}`, { text: b });
    });
  return fc.oneof({ weight: 8, arbitrary: edits }, { weight: 1, arbitrary: whole }, { weight: 1, arbitrary: bytes });
}

async function fuzzConfig(work, validWeights, count) {
  const dir = join(work, 'model');
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, 'config.json');
  const weightsFile = join(dir, 'model.safetensors');
  writeFileSync(weightsFile, validWeights);
  const valid = configToHF(MICRO);
  let ok = 0, errors = 0;
  await fc.assert(
    fc.asyncProperty(configCases(valid), async (c) => {
      if (trace) process.stderr.write(`config case: ${Buffer.from(c.text).toString('utf8')}\n`);
      writeFileSync(configFile, c.text);
      let model;
      try {
        model = await GPT2.load(dir, { threads: 1, device: 'cpu', portable: false });
      } catch (err) {
        errors++;
        // the config is refused naming config.json; a config the weights do not match, naming the weights
        const named = err instanceof Error && (err.message.includes(configFile) || err.message.includes(weightsFile));
        if (!named) checkError(err, configFile, () => c.kind);
        return;
      }
      try {
        validateConfig({ ...model.config }); // a config that loaded is one that validates
        ok++;
      } finally {
        await model.dispose();
      }
    }),
    { numRuns: count, seed, endOnFailure: true },
  );
  return { ok, errors };
}

// ---------------------------------------------------------------- main

process.stderr.write(`fuzz: seed ${seed}, ${cases} cases per parser (replay: --seed ${seed} --cases ${cases})\n`);
const work = mkdtempSync(join(tmpdir(), 'tweetsmith-fuzz-'));
try {
  const base = await GPT2.init(MICRO, { seed: 1, threads: 1, device: 'cpu' });
  await base.save(join(work, 'base'));
  await base.dispose();
  const validWeights = readFileSync(join(work, 'base', 'model.safetensors'));
  const runs = { safetensors: () => fuzzSafetensors(work, validWeights, cases), config: () => fuzzConfig(work, validWeights, cases) };
  for (const parser of which === 'all' ? Object.keys(runs) : [which]) {
    if (!runs[parser]) throw new Error(`--parser must be safetensors, config or all, got ${parser}`);
    const started = performance.now();
    const { ok, errors } = await runs[parser]();
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    process.stdout.write(JSON.stringify({ parser, cases, ok, errors, seconds, seed }) + '\n');
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
