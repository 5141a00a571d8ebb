// From a model to finished posts, as the original tool made them: the prompt
// starts with <|endoftext|>, samples are decoded without special tokens, cut at
// the first new line unless new lines are allowed, and stripped.
import { SAMPLING_DEFAULTS } from '../defaults.js';
import type { GenerateOptions, TokenEvent } from '../engine/generate.js';
import type { GPT2 } from '../engine/gpt2.js';
import type { Tokenizer } from '../tokenizer/index.js';

export const DEFAULT_PROMPT = SAMPLING_DEFAULTS.prompt;

export interface SampleOptions extends GenerateOptions {
  /** keep line breaks inside a sample (default: cut at the first one) */
  allowNewlines?: boolean;
  /**
   * called as each sequence's text grows, with the text so far; a character whose
   * UTF-8 bytes span tokens shows once its last byte has come (onFinished has the whole text)
   */
  onText?: (sequence: number, textSoFar: string) => void;
  /** called once per sequence, with its finished text, as soon as it is finished */
  onFinished?: (sequence: number, text: string) => void;
}

export function finishSample(decoded: string, allowNewlines: boolean): string {
  const text = allowNewlines ? decoded : decoded.split('\n')[0];
  return text.trim();
}

/** The original tool's "Tweet" button: a tweet-intent link quoting the sample. */
export function tweetIntentUrl(text: string): string {
  return `https://twitter.com/intent/tweet?text=${encodeURIComponent(text)}`;
}

/**
 * Samples `n` posts that continue `prompt` (text). Generation stops early once
 * every sequence has ended (end-of-text, or a new line when those are cut).
 */
export async function samplePosts(model: GPT2, tokenizer: Tokenizer, prompt: string, options: SampleOptions = {}): Promise<string[]> {
  const n = options.n ?? 1;
  const allowNewlines = options.allowNewlines ?? false;
  const eos = tokenizer.eosTokenId;
  const promptTokens = [eos, ...tokenizer.encode(prompt)];
  const tokens: number[][] = Array.from({ length: n }, () => []);
  const ended = new Array<boolean>(n).fill(false);
  const texts = new Array<string>(n).fill(prompt);
  const end = (sequence: number) => {
    ended[sequence] = true;
    options.onFinished?.(sequence, finishSample(texts[sequence], allowNewlines));
  };
  const events: AsyncGenerator<TokenEvent> = model.generate(promptTokens, options);
  for await (const e of events) {
    if (ended[e.sequence]) continue;
    if (e.token === eos) {
      end(e.sequence);
    } else {
      tokens[e.sequence].push(e.token);
      texts[e.sequence] = prompt + tokenizer.decode(tokens[e.sequence]);
      // a trailing U+FFFD is, while sampling, most often a character still being spelled out
      options.onText?.(e.sequence, finishSample(texts[e.sequence].replace(/\uFFFD+$/, ''), allowNewlines));
      if (!allowNewlines && texts[e.sequence].includes('\n')) end(e.sequence);
    }
    if (ended.every(Boolean)) break; // the rest would only be cut off
  }
  ended.forEach((done, sequence) => done || end(sequence));
  return texts.map((t) => finishSample(t, allowNewlines));
}
