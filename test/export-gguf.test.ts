// GGUF export, checked by two readers that are not ours: llama.cpp itself
// (through node-llama-cpp, whose prebuilt CPU binary loads the file with
// llama.cpp's gpt2 architecture) must give tweetsmith's next-token
// distributions along tweetsmith's greedy text, and @huggingface/gguf must read
// the keys, tensor names, shapes and types llama.cpp's converter writes.
//
// Two things that are easy to trip over when comparing with llama.cpp:
// - llama.cpp's own generation stops at end-of-text (<|endoftext|> is the eos
//   token), so its text from a prompt can be shorter than tweetsmith's; this test
//   feeds it tweetsmith's tokens instead and compares the distributions.
// - llama.cpp's CPU GELU reads an fp16 lookup table (GGML_GELU_FP16 in
//   ggml-cpu/vec.h: the input rounded to fp16, the table's fp16 value out), so
//   each activation is off by up to ~1e-3 relative (and its KV cache is f16 by
//   default): even an f32 file gives close, not bit-identical, logits.
import test from 'ava';
import { gguf, GGMLQuantizationType } from '@huggingface/gguf';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { getLlama, type Llama } from 'node-llama-cpp';
import { exportGGUF, GPT2, Tokenizer, train, type GGUFType } from '../lib/index.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin', 'tweetsmith.js');
const archive = join(root, 'demo', 'archive');
const scratch = () => mkdtempSync(join(tmpdir(), 'tweetsmith-gguf-'));

// A small GPT-2 trained on the demo archive: trained, so that its next-token
// distributions are peaked (a random model's are nearly flat, and any two
// implementations agree on a flat distribution to 1e-5 without proving much).
// n_embd 64 divides into q8_0's blocks of 32, so the q8_0 file really is q8_0.
const SHAPE = { nLayer: 2, nHead: 2, nEmbd: 64, nPositions: 64 };
let trainedModel: Promise<string> | undefined;
function trainedDemoModel(): Promise<string> {
  trainedModel ??= (async () => {
    const base = join(scratch(), 'base');
    const init = await GPT2.init(SHAPE, { seed: 7, threads: 2 });
    await init.save(base);
    await init.dispose();
    const out = join(scratch(), 'fenwick');
    await train({ sources: [archive], base, out, maxSteps: 150, lr: 1e-2, seed: 1, threads: 2, samples: 0 }).result;
    return out;
  })();
  return trainedModel;
}

let llamaInstance: Promise<Llama> | undefined;
// gpu: false: CI has Mesa's software Vulkan installed, which auto-detection could pick.
const llama = () => (llamaInstance ??= getLlama({ gpu: false, build: 'never', logLevel: 'error' as never, progressLogs: false }));

function softmaxRow(logits: Float32Array, row: number, vocab: number): Float64Array {
  const out = new Float64Array(vocab);
  let max = -Infinity;
  for (let v = 0; v < vocab; v++) max = Math.max(max, logits[row * vocab + v]);
  let sum = 0;
  for (let v = 0; v < vocab; v++) sum += out[v] = Math.exp(logits[row * vocab + v] - max);
  for (let v = 0; v < vocab; v++) out[v] /= sum;
  return out;
}

const argmax = (p: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
  return best;
};

interface Agreement {
  positions: number;
  argmaxAgree: number;
  maxAbsDelta: number;
  maxTopP: number;
}

/**
 * tweetsmith's greedy continuation of each prompt, then llama.cpp fed those
 * tokens one at a time (its KV cache grows as in generation); at each position
 * llama.cpp's next-token probabilities against the softmax of tweetsmith's logits.
 */
async function compareWithLlamaCpp(modelDir: string, file: string, prompts: string[]): Promise<Agreement> {
  const tokenizer = await Tokenizer.fromDir(modelDir);
  const model = await GPT2.load(modelDir, { threads: 2 });
  const vocab = model.config.vocabSize;
  const llamaModel = await (await llama()).loadModel({ modelPath: file, gpuLayers: 0 });
  const result: Agreement = { positions: 0, argmaxAgree: 0, maxAbsDelta: 0, maxTopP: 0 };
  try {
    for (const prompt of prompts) {
      const promptTokens = tokenizer.encode(prompt);
      // llama.cpp tokenizes with the GGUF's tokens, merges and gpt-2 pre-tokenizer: the same ids.
      if (JSON.stringify([...llamaModel.tokenize(prompt)]) !== JSON.stringify(promptTokens)) {
        throw new Error(`llama.cpp tokenizes ${JSON.stringify(prompt)} as ${JSON.stringify([...llamaModel.tokenize(prompt)])}, tweetsmith as ${JSON.stringify(promptTokens)}`);
      }
      const generated: number[] = [];
      // minLength = maxLength: tweetsmith's greedy text goes on past the places
      // where end-of-text is the most likely token (llama.cpp's would stop there);
      // the distributions compared are the raw ones either way.
      const maxLength = promptTokens.length + 24;
      for await (const e of model.generate(promptTokens, { temperature: 0, minLength: maxLength, maxLength, seed: 1 })) {
        generated.push(e.token);
      }
      const tokens = [...promptTokens, ...generated].slice(0, SHAPE.nPositions);
      const logits = await model.logits(tokens);

      const context = await llamaModel.createContext({ contextSize: SHAPE.nPositions, threads: 2, sequences: 1 });
      try {
        const sequence = context.getSequence();
        for (let i = 0; i < tokens.length; i++) {
          const [out] = await sequence.controlledEvaluate([[tokens[i] as never, { generateNext: { probabilities: true } }]]);
          const probabilities = out?.next.probabilities;
          if (!probabilities || probabilities.size !== vocab) throw new Error(`position ${i}: llama.cpp gave ${probabilities?.size} probabilities, not ${vocab}`);
          const ours = softmaxRow(logits, i, vocab);
          const theirs = new Float64Array(vocab);
          for (const [token, p] of probabilities) theirs[token as number] = p;
          let delta = 0;
          for (let v = 0; v < vocab; v++) delta = Math.max(delta, Math.abs(theirs[v] - ours[v]));
          result.positions++;
          if (argmax(theirs) === argmax(ours)) result.argmaxAgree++;
          result.maxAbsDelta = Math.max(result.maxAbsDelta, delta);
          result.maxTopP = Math.max(result.maxTopP, ours[argmax(ours)]);
        }
      } finally {
        await context.dispose();
      }
    }
  } finally {
    await llamaModel.dispose();
    await model.dispose();
  }
  return result;
}

const PROMPTS = ['The lighthouse', 'My dream is', 'Fog rolled in over the harbour and'];

// f32: the bound. f16 and q8_0 round the weight matrices (and llama.cpp's
// q8_0 product rounds the activations to 8 bits per block of 32 too), so their
// distributions move further, and by how much depends on the trained model.
// Measured here (85 positions; 2 cores, x86-64, node-llama-cpp's CPU build) on the
// models two engine builds trained (the same steps; their exponentials round
// differently, and the second model came out more peaked, top probability 0.144
// against 0.113): f32 1.4e-5 and 2.8e-5, f16 8.9e-5 and 2.7e-4, q8_0 1.3e-3 and
// 8.1e-3, argmax equal everywhere in all six. The bounds leave room for another
// model; q8_0's stays an order of magnitude under the top probabilities that a
// wrong scale or layout would move, and argmax is checked besides.
const BOUNDS: Record<GGUFType, number> = { f32: 1e-3, f16: 1e-3, q8_0: 2e-2 };

for (const type of ['f32', 'f16', 'q8_0'] as const) {
  test.serial(`llama.cpp loads the ${type} GGUF and gives tweetsmith's next-token distributions along its greedy text`, async (t) => {
    const modelDir = await trainedDemoModel();
    const file = join(scratch(), `fenwick-${type}.gguf`);
    await exportGGUF(modelDir, file, { type });
    const r = await compareWithLlamaCpp(modelDir, file, PROMPTS);
    t.log(`${type}: ${r.positions} positions, argmax agrees at ${r.argmaxAgree}, max |Δp| ${r.maxAbsDelta.toExponential(2)}, largest top probability ${r.maxTopP.toFixed(3)}`);
    // uniform would be 2e-5 at every token
    t.true(r.maxTopP > 0.05, 'the trained model has peaked distributions (otherwise the comparison proves little)');
    if (type === 'f32') t.is(r.argmaxAgree, r.positions, 'f32: the same argmax at every position');
    else t.true(r.argmaxAgree >= r.positions - 2, `${type}: argmax agrees at ${r.argmaxAgree}/${r.positions}`);
    t.true(r.maxAbsDelta <= BOUNDS[type], `${type}: max |Δp| ${r.maxAbsDelta} > ${BOUNDS[type]}`);
  });
}

test.serial("@huggingface/gguf reads the keys, tensor names, shapes and types of llama.cpp's gpt2", async (t) => {
  const modelDir = await trainedDemoModel();
  const dir = scratch();
  const model = await GPT2.load(modelDir, { threads: 2 });
  const params = await model.parameters();
  await model.dispose();
  const { nEmbd: C, nLayer, nPositions } = SHAPE;
  const vocab = 50257;

  for (const type of ['f32', 'f16', 'q8_0'] as const) {
    const file = join(dir, `m-${type}.gguf`);
    const written = await exportGGUF(modelDir, file, { type, modelfile: false });
    const { metadata, tensorInfos, tensorDataOffset } = await gguf(file, { allowLocalFile: true });
    const m = metadata as Record<string, unknown>;
    t.is(m['general.architecture'], 'gpt2');
    t.is(m['general.file_type'], { f32: 0, f16: 1, q8_0: 7 }[type]);
    t.is(m['general.quantization_version'], 2);
    t.is(m['general.tweetsmith.version'], JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
    t.is(m['gpt2.block_count'], nLayer);
    t.is(m['gpt2.context_length'], nPositions);
    t.is(m['gpt2.embedding_length'], C);
    t.is(m['gpt2.feed_forward_length'], 4 * C);
    t.is(m['gpt2.attention.head_count'], SHAPE.nHead);
    t.true(Math.abs((m['gpt2.attention.layer_norm_epsilon'] as number) - 1e-5) < 1e-12);
    t.is(m['tokenizer.ggml.model'], 'gpt2');
    t.is(m['tokenizer.ggml.pre'], 'gpt-2');
    const tokens = m['tokenizer.ggml.tokens'] as string[];
    const types = m['tokenizer.ggml.token_type'] as number[];
    const merges = m['tokenizer.ggml.merges'] as string[];
    t.is(tokens.length, vocab);
    t.is(types.length, vocab);
    t.is(tokens[50256], '<|endoftext|>');
    t.is(types[50256], 3, '<|endoftext|> is a control token');
    t.is(tokens[464], 'The');
    t.is(tokens[383], 'ĠThe', 'byte-level strings, as in vocab.json');
    t.is(types.filter((x) => x === 1).length, vocab - 1);
    t.is(merges.length, 50000);
    t.is(merges[0], 'Ġ t');
    t.is(m['tokenizer.ggml.bos_token_id'], 50256);
    t.is(m['tokenizer.ggml.eos_token_id'], 50256);

    // Tensors: llama.cpp's names, ggml's dimension order (ne, the reverse of
    // PyTorch's), no output.weight (the loader falls back to token_embd).
    const byName = new Map(tensorInfos.map((i) => [i.name, i]));
    const matrix = { f32: GGMLQuantizationType.F32, f16: GGMLQuantizationType.F16, q8_0: GGMLQuantizationType.Q8_0 }[type];
    const expected: Array<[string, number[], number]> = [
      ['token_embd.weight', [C, vocab], matrix],
      ['position_embd.weight', [C, nPositions], GGMLQuantizationType.F32],
      ['output_norm.weight', [C], GGMLQuantizationType.F32],
      ['output_norm.bias', [C], GGMLQuantizationType.F32],
    ];
    for (let l = 0; l < nLayer; l++) {
      expected.push(
        [`blk.${l}.attn_norm.weight`, [C], GGMLQuantizationType.F32],
        [`blk.${l}.attn_norm.bias`, [C], GGMLQuantizationType.F32],
        [`blk.${l}.attn_qkv.weight`, [C, 3 * C], matrix],
        [`blk.${l}.attn_qkv.bias`, [3 * C], GGMLQuantizationType.F32],
        [`blk.${l}.attn_output.weight`, [C, C], matrix],
        [`blk.${l}.attn_output.bias`, [C], GGMLQuantizationType.F32],
        [`blk.${l}.ffn_norm.weight`, [C], GGMLQuantizationType.F32],
        [`blk.${l}.ffn_norm.bias`, [C], GGMLQuantizationType.F32],
        [`blk.${l}.ffn_up.weight`, [C, 4 * C], matrix],
        [`blk.${l}.ffn_up.bias`, [4 * C], GGMLQuantizationType.F32],
        [`blk.${l}.ffn_down.weight`, [4 * C, C], matrix],
        [`blk.${l}.ffn_down.bias`, [C], GGMLQuantizationType.F32],
      );
    }
    t.is(tensorInfos.length, expected.length);
    t.false(byName.has('output.weight'));
    for (const [name, shape, dtype] of expected) {
      const info = byName.get(name);
      t.truthy(info, name);
      t.deepEqual(info!.shape.map(Number), shape, name);
      t.is(info!.dtype, dtype, `${name} type`);
    }
    t.deepEqual(written.tensorTypes, type === 'f32' ? { f32: expected.length } : { f32: expected.length - 1 - 4 * nLayer, [type]: 1 + 4 * nLayer });

    if (type === 'f32') {
      // The Conv1D transpose: attn_qkv holds row j = output j's weights over the
      // inputs, i.e. Hugging Face's c_attn.weight [in, out] read column-wise.
      const qkv = byName.get('blk.0.attn_qkv.weight')!;
      const handle = await open(file, 'r');
      const bytes = Buffer.alloc(C * 3 * C * 4);
      await handle.read(bytes, 0, bytes.length, Number(tensorDataOffset + qkv.offset));
      await handle.close();
      const stored = new Float32Array(bytes.buffer, bytes.byteOffset, C * 3 * C);
      const hf = params['h.0.attn.c_attn.weight'];
      let mismatches = 0;
      for (let out = 0; out < 3 * C; out++) for (let i = 0; i < C; i++) if (stored[out * C + i] !== hf[i * 3 * C + out]) mismatches++;
      t.is(mismatches, 0, 'attn_qkv is c_attn.weight transposed, bit for bit');
    }
  }
});

test.serial('an existing file is replaced only if tweetsmith wrote it, and only with force; a foreign one never', async (t) => {
  const modelDir = await trainedDemoModel();
  const dir = scratch();
  const file = join(dir, 'bot.gguf');

  // a foreign file at --out: never replaced, with or without force
  writeFileSync(file, 'my notes, not a model\n');
  for (const force of [false, true]) {
    const err = await t.throwsAsync(exportGGUF(modelDir, file, { force }));
    t.regex(err!.message, /is not a GGUF file that tweetsmith wrote.*never replaces/);
  }
  t.is(readFileSync(file, 'utf8'), 'my notes, not a model\n');

  // someone else's GGUF (same format, no tweetsmith key): also never replaced
  const other = join(dir, 'other.gguf');
  await exportGGUF(modelDir, other, { modelfile: false });
  const bytes = readFileSync(other);
  const key = Buffer.from('general.tweetsmith.version');
  const at = bytes.indexOf(key);
  t.true(at > 0);
  bytes.write('general.somebodys.version', at, 'latin1'); // same length: still a valid GGUF, not ours
  writeFileSync(other, bytes);
  const foreign = await t.throwsAsync(exportGGUF(modelDir, other, { force: true, modelfile: false }));
  t.regex(foreign!.message, /is not a GGUF file that tweetsmith wrote/);
  t.true(readFileSync(other).equals(bytes), 'the foreign GGUF is unchanged'); // (deepEqual on 13 MB is slow)

  // tweetsmith's own GGUF: needs force, then replaced
  const ours = join(dir, 'ours', 'bot.gguf');
  await exportGGUF(modelDir, ours, { type: 'f16' });
  const err = await t.throwsAsync(exportGGUF(modelDir, ours, { type: 'q8_0' }));
  t.regex(err!.message, /already exists \(a GGUF file that tweetsmith wrote\): pass --force/);
  const replaced = await exportGGUF(modelDir, ours, { type: 'q8_0', force: true });
  t.is(replaced.type, 'q8_0');
  t.is(((await gguf(ours, { allowLocalFile: true })).metadata as Record<string, unknown>)['general.file_type'], 7);

  // a Modelfile tweetsmith did not write blocks the export (before the GGUF is written)
  const third = join(dir, 'third');
  mkdirSync(third);
  writeFileSync(join(third, 'Modelfile'), 'FROM llama3\n');
  const mf = await t.throwsAsync(exportGGUF(modelDir, join(third, 'x.gguf'), { force: true }));
  t.regex(mf!.message, /Modelfile is not a Modelfile that tweetsmith wrote/);
  t.false(existsSync(join(third, 'x.gguf')));
  t.is(readFileSync(join(third, 'Modelfile'), 'utf8'), 'FROM llama3\n');

  // a folder at --out
  mkdirSync(join(dir, 'folder.gguf'));
  const folder = await t.throwsAsync(exportGGUF(modelDir, join(dir, 'folder.gguf'), { force: true }));
  t.regex(folder!.message, /exists and is not a file/);

  // no temporary files left behind by any of it
  for (const d of [dir, join(dir, 'ours'), third]) t.deepEqual(readdirSync(d).filter((n) => n.includes('.partial-')), [], d);
});

test.serial('tweetsmith export writes the GGUF and an ollama Modelfile with the sampling defaults', async (t) => {
  const modelDir = await trainedDemoModel();
  const dir = scratch();
  const file = join(dir, 'fenwick.gguf');
  const { stdout } = await run(process.execPath, [cli, 'export', modelDir, '--format', 'gguf', '--out', file, '--type', 'q8_0', '--json']);
  const result = JSON.parse(stdout);
  t.is(result.file, file);
  t.is(result.type, 'q8_0');
  t.is(result.modelfile, join(dir, 'Modelfile'));
  const modelfile = readFileSync(join(dir, 'Modelfile'), 'utf8');
  t.regex(modelfile, /^# Written by tweetsmith /);
  t.regex(modelfile, /^FROM \.\/fenwick\.gguf$/m);
  t.regex(modelfile, /^TEMPLATE """\{\{ \.Prompt \}\}"""$/m);
  t.regex(modelfile, /^PARAMETER temperature 1$/m);
  t.regex(modelfile, /^PARAMETER top_p 0\.95$/m);
  t.regex(modelfile, /^PARAMETER top_k 0$/m);
  t.regex(modelfile, /^PARAMETER num_ctx 64$/m);
  t.regex(modelfile, /^PARAMETER stop "<\|endoftext\|>"$/m);

  // again without --force: refused, and says how
  const again = await t.throwsAsync(run(process.execPath, [cli, 'export', modelDir, '--format', 'gguf', '--out', file]));
  t.regex((again as unknown as { stderr: string }).stderr, /exists .*pass --force/);
  // a type it does not write
  const bad = await t.throwsAsync(run(process.execPath, [cli, 'export', modelDir, '--format', 'gguf', '--out', join(dir, 'b.gguf'), '--type', 'q4_0']));
  t.regex((bad as unknown as { stderr: string }).stderr, /expected one of f32, f16, q8_0, got "q4_0"/);
});

test.serial('q8_0 falls back to f16 for a matrix whose rows do not divide into blocks of 32, as the converter does', async (t) => {
  const dir = join(scratch(), 'w48');
  const model = await GPT2.init({ nLayer: 1, nHead: 2, nEmbd: 48, nPositions: 16 }, { seed: 2, threads: 2 });
  await model.save(dir);
  await model.dispose();
  const file = join(scratch(), 'w48.gguf');
  const written = await exportGGUF(dir, file, { type: 'q8_0', modelfile: false });
  const { tensorInfos } = await gguf(file, { allowLocalFile: true });
  const dtype = (name: string) => tensorInfos.find((i) => i.name === name)!.dtype;
  // rows of 48 (token_embd, attn_qkv, attn_output, ffn_up): f16; ffn_down's rows of 192: q8_0
  for (const name of ['token_embd.weight', 'blk.0.attn_qkv.weight', 'blk.0.attn_output.weight', 'blk.0.ffn_up.weight']) {
    t.is(dtype(name), GGMLQuantizationType.F16, name);
  }
  t.is(dtype('blk.0.ffn_down.weight'), GGMLQuantizationType.Q8_0);
  t.deepEqual(written.tensorTypes, { f16: 4, f32: 11, q8_0: 1 });
});

test.serial('bad inputs get errors that say what to do, and write nothing', async (t) => {
  const dir = scratch();
  const type = await t.throwsAsync(exportGGUF(dir, join(dir, 'x.gguf'), { type: 'q4_0' as GGUFType }));
  t.regex(type!.message, /GGUF type "q4_0" is not supported; choose one of f32, f16, q8_0/);
  const missing = await t.throwsAsync(exportGGUF(join(dir, 'nope'), join(dir, 'x.gguf')));
  t.regex(missing!.message, /nope: no such model directory/);
  mkdirSync(join(dir, 'empty'));
  const empty = await t.throwsAsync(exportGGUF(join(dir, 'empty'), join(dir, 'x.gguf')));
  t.regex(empty!.message, /config\.json: missing/);
  const named = await t.throwsAsync(exportGGUF(await trainedDemoModel(), join(dir, 'Modelfile')));
  t.regex(named!.message, /cannot be called Modelfile/);
  t.deepEqual(readdirSync(dir).sort(), ['empty']);
});
