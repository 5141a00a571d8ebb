// Exporting a model directory as a GGUF file for llama.cpp, ollama and LM Studio,
// with an ollama Modelfile beside it. The file itself is written by the engine
// with ggml's gguf API (native/engine/gguf_export.cpp); this module gathers what
// goes into it (the shape, the weights' path, the tokenizer as GGUF carries it)
// and keeps the user's files safe.
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { loadNative, type NativeGGUFResult } from '../engine/native.js';
import { toNativeConfig, type GPT2Config } from '../model/config.js';
import { readModelConfig, weightsPath } from '../model/model-dir.js';
import { END_OF_TEXT } from '../tokenizer/files.js';
import { readTokenizerDir } from '../tokenizer/read-dir.js';
import { readPackageVersion } from '../version.js';
import { assertFileReplaceable, replaceFileSafely, type ReplaceFileOptions } from '../fs/replace-file.js';
import { isTweetsmithModelfile, MODELFILE_NAME, renderModelfile } from './modelfile.js';

export const GGUF_TYPES = ['f32', 'f16', 'q8_0'] as const;
export type GGUFType = (typeof GGUF_TYPES)[number];

export interface ExportGGUFOptions {
  /** the weight matrices' format: f32 (exact), f16 or q8_0; norms, biases and positions stay f32 */
  type?: GGUFType;
  /** replace a GGUF (and Modelfile) that tweetsmith wrote before; a foreign file is never replaced */
  force?: boolean;
  /** write the ollama Modelfile beside the GGUF (default true) */
  modelfile?: boolean;
  /** general.name in the file (default: the model folder's name) */
  name?: string;
}

export interface ExportGGUFResult {
  file: string;
  /** the Modelfile's path, when one was written */
  modelfile?: string;
  type: GGUFType;
  bytes: number;
  /** ggml type → how many tensors are stored in it (f16/q8_0 files keep norms, biases and positions in f32) */
  tensorTypes: Record<string, number>;
}

// llama.cpp's token types (gguf-py's TokenType).
const TOKEN_NORMAL = 1;
const TOKEN_CONTROL = 3;
const TOKEN_USER_DEFINED = 4;
const TOKEN_UNUSED = 5;

/** The tokenizer as convert_hf_to_gguf.py's get_vocab_base lays it out: one entry per id up to vocab_size. */
async function ggufVocab(modelDir: string, config: GPT2Config) {
  const source = await readTokenizerDir(modelDir);
  const tokens: Array<string | undefined> = new Array(config.vocabSize);
  const types = new Int32Array(config.vocabSize);
  const place = (token: string, id: number, type: number, where: string) => {
    if (id >= config.vocabSize) {
      throw new Error(`${where}: token ${JSON.stringify(token)} has id ${id}, beyond the model's vocab_size ${config.vocabSize}; the GGUF needs every token to have a row of the embedding`);
    }
    tokens[id] = token;
    types[id] = type;
  };
  for (const [token, id] of source.vocab) place(token, id, TOKEN_NORMAL, source.vocabFile);
  // Added tokens (GPT-2's <|endoftext|>): special ones are CONTROL, the others USER_DEFINED.
  for (const added of source.addedTokens) place(added.content, added.id, added.special ? TOKEN_CONTROL : TOKEN_USER_DEFINED, source.vocabFile);
  for (let id = 0; id < config.vocabSize; id++) {
    if (tokens[id] === undefined) {
      tokens[id] = `[PAD${id}]`;
      types[id] = TOKEN_UNUSED;
    }
  }
  return {
    tokens: tokens as string[],
    tokenTypes: types,
    merges: source.merges.map(([left, right]) => `${left} ${right}`),
    endOfText: source.addedTokens.find((t) => t.special)?.content ?? END_OF_TEXT,
  };
}

/** A GGUF tweetsmith wrote carries its version under general.tweetsmith.version. */
async function isTweetsmithGGUF(file: string): Promise<boolean> {
  return Boolean(loadNative().inspectGGUF(file).generatorVersion);
}

/**
 * Writes the model in `modelDir` as a GGUF file that llama.cpp's `gpt2`
 * architecture loads, and an ollama `Modelfile` beside it.
 */
export async function exportGGUF(modelDir: string, file: string, options: ExportGGUFOptions = {}): Promise<ExportGGUFResult> {
  const type = options.type ?? 'f32';
  if (!(GGUF_TYPES as readonly string[]).includes(type)) {
    throw new Error(`GGUF type "${type}" is not supported; choose one of ${GGUF_TYPES.join(', ')}`);
  }
  const target = resolve(file);
  const modelfile = options.modelfile === false ? undefined : resolve(dirname(target), MODELFILE_NAME);
  const force = options.force ?? false;
  if (modelfile === target) throw new Error(`${target}: the GGUF cannot be called ${MODELFILE_NAME}: that name is the ollama Modelfile written beside it; choose another --out (e.g. model.gguf)`);

  // Everything is read and checked before anything is written.
  const { config } = await readModelConfig(modelDir);
  const weights = weightsPath(modelDir);
  const vocab = await ggufVocab(modelDir, config);
  const native = loadNative();
  if (typeof native.exportGGUF !== 'function') {
    throw new Error('the loaded tweetsmith engine was built before GGUF export existed: rebuild it (npm run build:native) or update the package');
  }
  const ggufRules: Omit<ReplaceFileOptions, 'write'> = { kind: 'GGUF file', force, isOurs: isTweetsmithGGUF };
  const modelfileRules: Omit<ReplaceFileOptions, 'write'> = { kind: 'Modelfile', force, isOurs: isTweetsmithModelfile };
  // both before either is written: a foreign Modelfile must not leave a new GGUF behind
  await assertFileReplaceable(target, ggufRules);
  if (modelfile) await assertFileReplaceable(modelfile, modelfileRules);
  await mkdir(dirname(target), { recursive: true });

  const version = readPackageVersion();
  let written: NativeGGUFResult | undefined;
  await replaceFileSafely(target, { ...ggufRules, write: async (tmp) => {
    written = await native.exportGGUF(
      {
        config: toNativeConfig(config),
        weightsPath: weights,
        type,
        tokens: vocab.tokens,
        tokenTypes: vocab.tokenTypes,
        merges: vocab.merges,
        bosId: config.bosTokenId,
        eosId: config.eosTokenId,
        name: options.name ?? basename(resolve(modelDir)),
        generatorVersion: version,
      },
      tmp,
    );
  } });
  if (modelfile) {
    const text = renderModelfile({ ggufName: basename(target), contextLength: config.nPositions, endOfText: vocab.endOfText, version });
    await replaceFileSafely(modelfile, { ...modelfileRules, write: (tmp) => writeFile(tmp, text) });
  }
  return { file: target, modelfile, type, bytes: written!.bytes, tensorTypes: written!.tensorTypes };
}
