// `tweetsmith generate --model DIR [PROMPT]`: posts in the model's voice, with the
// original tool's defaults, streamed as they are written.
import { Command } from 'commander';
import { SAMPLING_DEFAULTS } from '../../defaults.js';
import { GPT2 } from '../../engine/gpt2.js';
import { SAMPLING_WEIGHTS, type SamplingWeights } from '../../engine/generate.js';
import { samplePosts, tweetIntentUrl } from '../../generate/samples.js';
import { locateOutput } from '../../fs/safe-output.js';
import { modelTokenizer } from '../../model/model-tokenizer.js';
import type { DeviceRequest } from '../../engine/device.js';
import { terminalJson, terminalText } from '../../terminal-text.js';
import { DEVICE_HELP, deviceName, nonNegativeNumber, oneOf, positiveNumber, sequenceCount, threadCount, tokenLength, topK, wholeNumber } from '../option-parsers.js';

interface GenerateCommandOptions {
  model: string;
  n: number;
  maxLength: number;
  minLength: number;
  temperature: number;
  topP: number;
  topK: number;
  seed?: number;
  allowNewlines?: boolean;
  tweetLinks?: boolean;
  threads?: number;
  device?: DeviceRequest;
  weights: SamplingWeights;
  json?: boolean;
}

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description("Write new posts with a model's voice")
    .argument('[prompt]', 'how the posts start', SAMPLING_DEFAULTS.prompt)
    .requiredOption('--model <dir>', 'a model directory (from tweetsmith train, or any GPT-2 in the Hugging Face layout)')
    .option('-n, --n <count>', 'how many posts', sequenceCount, SAMPLING_DEFAULTS.n)
    .option('--max-length <tokens>', 'most tokens per post, the prompt included', tokenLength(2), SAMPLING_DEFAULTS.maxLength)
    .option('--min-length <tokens>', 'no end-of-text before this many tokens, the prompt included', tokenLength(0), SAMPLING_DEFAULTS.minLength)
    .option('--temperature <t>', 'randomness (0: always the most likely token)', nonNegativeNumber, SAMPLING_DEFAULTS.temperature)
    .option('--top-p <p>', 'nucleus sampling mass', positiveNumber, SAMPLING_DEFAULTS.topP)
    .option('--top-k <k>', 'sample from the k most likely tokens only (0: off)', topK, SAMPLING_DEFAULTS.topK)
    .option('--seed <n>', 'the same seed gives the same posts (default: random)', wholeNumber(0))
    .option('--allow-newlines', 'keep line breaks (default: cut each post at its first one)')
    .option('--tweet-links', 'print a tweet-intent link after each post')
    .option('--threads <n>', 'CPU threads (default: all cores)', threadCount)
    .option('--device <name>', DEVICE_HELP, deviceName)
    .option('--weights <format>', 'weight format while sampling: f32, f16, bf16 (half the memory traffic) or q8_0 (about a quarter)', oneOf(SAMPLING_WEIGHTS), SAMPLING_DEFAULTS.weights)
    .option('--json', 'print {"prompt": ..., "samples": [...]} on stdout and nothing else')
    .addHelpText('after', `\nExample: tweetsmith generate --model models/me "My dream is" -n 5 --seed 1\n`)
    .action(async (prompt: string, o: GenerateCommandOptions) => {
      const model = await GPT2.load(o.model, { threads: o.threads, device: o.device });
      if (!o.json) process.stderr.write(`tweetsmith: device: ${terminalText(`${model.device} (${model.deviceInfo().reason})`)}\n`);
      try {
        // the model's own tokenizer, or a clear error: never GPT-2's in place of an unreadable one
        const { tokenizer, note } = await modelTokenizer(await locateOutput(o.model), model.config);
        if (note) process.stderr.write(`tweetsmith: ${note}\n`);
        // one post streams token by token on a terminal; several print as each is finished
        const stream = !o.json && o.n === 1 && Boolean(process.stdout.isTTY);
        let shown = '';
        // A sample is text a model wrote after learning from strangers' posts: printed, never obeyed by the terminal.
        const multiline = o.allowNewlines === true;
        const print = (text: string) => {
          process.stdout.write(`${terminalText(text, { multiline })}\n`);
          if (o.tweetLinks) process.stdout.write(`  ${tweetIntentUrl(text)}\n`);
        };
        const samples = await samplePosts(model, tokenizer, prompt, {
          n: o.n,
          maxLength: Math.min(o.maxLength, model.config.nPositions),
          minLength: o.minLength,
          temperature: o.temperature,
          topP: o.topP,
          topK: o.topK,
          seed: o.seed,
          weights: o.weights,
          allowNewlines: o.allowNewlines,
          onText: (_sequence, text) => {
            if (!stream) return;
            // Every character a terminal obeys is one UTF-16 unit, so escaping the new part alone is the same as escaping the whole.
            process.stdout.write(terminalText(text.slice(shown.length), { multiline }));
            shown = text;
          },
          onFinished: (_sequence, text) => {
            if (o.json) return;
            if (stream) {
              process.stdout.write('\n');
              if (o.tweetLinks) process.stdout.write(`  ${tweetIntentUrl(text)}\n`);
            } else print(text);
          },
        });
        if (o.json) process.stdout.write(terminalJson({ prompt, samples }) + '\n');
      } finally {
        await model.dispose();
      }
    });
}
