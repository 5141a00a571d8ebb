// The tokenizer a model folder is used with. A model trained with one tokenizer
// writes nonsense with another, so an unreadable tokenizer file is an error,
// never a reason to fall back to GPT-2's. Only a folder with no tokenizer files
// at all and GPT-2's vocabulary size gets GPT-2's tokenizer, and the caller is
// told (`note`) so it can say so.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '../tokenizer/index.js';
import { GPT2_VOCAB_SIZE, type GPT2Config } from './config.js';
import { TOKENIZER_FILES } from './model-files.js';

export interface ModelTokenizer {
  tokenizer: Tokenizer;
  /** set when GPT-2's tokenizer stands in for missing files: say it to the user */
  note?: string;
}

export async function modelTokenizer(dir: string, config: Pick<GPT2Config, 'vocabSize'>): Promise<ModelTokenizer> {
  const present = TOKENIZER_FILES.filter((name) => existsSync(join(dir, name)));
  if (present.length === 0) {
    if (config.vocabSize !== GPT2_VOCAB_SIZE) {
      throw new Error(
        `${dir}: no tokenizer files (vocab.json and merges.txt, or tokenizer.json), and the model's vocabulary (${config.vocabSize} tokens) ` +
          `is not GPT-2's: copy the tokenizer files of the model it was trained from into ${dir}`,
      );
    }
    return { tokenizer: Tokenizer.gpt2(), note: `${dir} has no tokenizer files; using GPT-2's, which matches the model's vocabulary size` };
  }
  let tokenizer: Tokenizer;
  try {
    tokenizer = await Tokenizer.fromDir(dir);
  } catch (err) {
    throw new Error(
      `${dir}: the model's tokenizer cannot be read: ${(err as Error).message.replace(/^tweetsmith: /, '')}. ` +
        `tweetsmith does not use another tokenizer in its place: repair or replace the tokenizer files`,
      { cause: err },
    );
  }
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new Error(
      `${dir}: the tokenizer has ${tokenizer.vocabSize} tokens but the model only ${config.vocabSize}: they do not belong together`,
    );
  }
  return { tokenizer };
}
