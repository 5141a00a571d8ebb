// The ollama Modelfile written beside an exported GGUF: the file, a template that
// passes the prompt through as it is (GPT-2 has no chat format: it continues text),
// and tweetsmith's sampling defaults.
import { open } from 'node:fs/promises';
import { SAMPLING_DEFAULTS } from '../defaults.js';

export const MODELFILE_NAME = 'Modelfile';

/** The first line of every Modelfile tweetsmith writes: how a later export knows it may replace it. */
export const MODELFILE_HEADER = '# Written by tweetsmith';

export interface ModelfileOptions {
  /** the GGUF's file name, in the same folder as the Modelfile */
  ggufName: string;
  /** the model's context (n_positions): ollama's own default is longer than GPT-2's */
  contextLength: number;
  endOfText: string;
  version: string;
}

export function renderModelfile({ ggufName, contextLength, endOfText, version }: ModelfileOptions): string {
  const from = /[\s"]/.test(ggufName) ? JSON.stringify(`./${ggufName}`) : `./${ggufName}`;
  const s = SAMPLING_DEFAULTS;
  return [
    `${MODELFILE_HEADER} ${version} (tweetsmith export --format gguf) beside ${ggufName}.`,
    '# Make the ollama model with:  ollama create NAME -f Modelfile   then:  ollama run NAME "My dream is"',
    `FROM ${from}`,
    '# GPT-2 continues text: the prompt goes in as it is, with no chat markup.',
    'TEMPLATE """{{ .Prompt }}"""',
    "# tweetsmith's sampling defaults (lib/defaults.ts). top_k 0 turns top-k off, as in tweetsmith;",
    "# repeat_penalty 1 turns off ollama's repetition penalty, which tweetsmith does not have.",
    `PARAMETER temperature ${s.temperature}`,
    `PARAMETER top_p ${s.topP}`,
    `PARAMETER top_k ${s.topK}`,
    'PARAMETER repeat_penalty 1',
    `PARAMETER num_ctx ${contextLength}`,
    `# tweetsmith's max length is ${s.maxLength} tokens with the prompt; ollama counts only the new ones.`,
    `PARAMETER num_predict ${s.maxLength}`,
    '# A post ends at end-of-text.',
    `PARAMETER stop ${JSON.stringify(endOfText)}`,
    '',
  ].join('\n');
}

/** Whether an existing Modelfile is one tweetsmith wrote (its first line). */
export async function isTweetsmithModelfile(file: string): Promise<boolean> {
  const head = Buffer.alloc(MODELFILE_HEADER.length);
  const handle = await open(file, 'r');
  try {
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  return head.toString('utf8') === MODELFILE_HEADER;
}
