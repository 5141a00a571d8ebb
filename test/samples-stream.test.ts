// samplePosts' onText streams the text as it grows (the CLI prints it, the web
// app's Generate box shows it): a character whose UTF-8 bytes span several tokens
// must not flash as U+FFFD before its last byte arrives.
import test from 'ava';
import { samplePosts } from '../lib/generate/samples.js';
import { Tokenizer } from '../lib/tokenizer/index.js';
import type { GPT2 } from '../lib/engine/gpt2.js';
import type { TokenEvent } from '../lib/engine/generate.js';

const tokenizer = Tokenizer.gpt2();

/** A model that "samples" fixed token ids: only the stream's handling is under test. */
function scriptedModel(ids: number[]): GPT2 {
  return {
    async *generate(prompt: number[]): AsyncGenerator<TokenEvent> {
      for (const [i, token] of ids.entries()) yield { sequence: 0, token, position: prompt.length + i };
    },
  } as unknown as GPT2;
}

test('onText never shows a half-spelled character; the finished text has it whole', async (t) => {
  const ids = tokenizer.encode(' 🦜 sings');
  // the emoji is four bytes; GPT-2's byte-level BPE spells it with more than one token
  const emojiTokens = ids.filter((id) => tokenizer.decode([id]).includes('\uFFFD'));
  t.true(emojiTokens.length >= 2, 'the test needs a character that spans tokens');
  const seen: string[] = [];
  const [text] = await samplePosts(scriptedModel(ids), tokenizer, 'The bird', {
    onText: (_s, soFar) => seen.push(soFar),
  });
  t.is(text, 'The bird 🦜 sings');
  t.true(seen.length === ids.length);
  for (const s of seen) t.false(s.includes('\uFFFD'), `streamed ${JSON.stringify(s)}`);
  t.is(seen.at(-1), text);
});
