// `tweetsmith init-model`: a randomly initialised GPT-2 in a model directory.
import { Command } from 'commander';
import { GPT2 } from '../../engine/gpt2.js';
import { assertOutputWritable } from '../../fs/safe-output.js';
import { PRESETS, presetConfig, type PresetName } from '../../model/config.js';
import { countParameters } from '../../model/parameters.js';
import { contextLength, headCount, layerCount, oneOf, threadCount, wholeNumber, width } from '../option-parsers.js';
import { terminalJson, terminalText } from '../../terminal-text.js';

interface InitModelOptions {
  size: PresetName;
  out: string;
  seed: number;
  nLayer?: number;
  nHead?: number;
  nEmbd?: number;
  nCtx?: number;
  threads?: number;
  force?: boolean;
  json?: boolean;
}

export function registerInitModel(program: Command): void {
  program
    .command('init-model')
    .description("Write a GPT-2 with random weights (initialised as Hugging Face does) and GPT-2's tokenizer files")
    .requiredOption('--out <dir>', 'the model directory to write: new, empty, or a model tweetsmith wrote (replaced as a whole); a folder holding other files is refused')
    .option('--force', 'also replace another kind of tweetsmith output (a dataset, a checkpoint) at --out; never files tweetsmith did not write')
    .option('--size <name>', `one of ${Object.keys(PRESETS).join(', ')}`, oneOf(Object.keys(PRESETS) as PresetName[]), 'tiny')
    .option('--seed <n>', 'seed of the initialisation', wholeNumber(0), 0)
    .option('--n-layer <n>', 'override the number of layers', layerCount)
    .option('--n-head <n>', 'override the number of attention heads', headCount)
    .option('--n-embd <n>', 'override the width (a multiple of --n-head)', width)
    .option('--n-ctx <n>', 'override the context length (n_positions)', contextLength)
    .option('--threads <n>', 'CPU threads (default: all cores)', threadCount)
    .option('--json', 'print the config and parameter count as JSON on stdout')
    .addHelpText(
      'after',
      `\nSizes: ${Object.entries(PRESETS)
        .map(([name, c]) => `${name} (${c.nLayer} layers, ${c.nHead} heads, width ${c.nEmbd}, context ${c.nPositions})`)
        .join('; ')}.\nExample: tweetsmith init-model --size tiny --out models/tiny\n`,
    )
    .action(async (options: InitModelOptions) => {
      const overrides = {
        ...(options.nLayer !== undefined && { nLayer: options.nLayer }),
        ...(options.nHead !== undefined && { nHead: options.nHead }),
        ...(options.nEmbd !== undefined && { nEmbd: options.nEmbd }),
        ...(options.nCtx !== undefined && { nPositions: options.nCtx }),
      };
      const config = presetConfig(options.size, overrides);
      await assertOutputWritable(options.out, 'model', { force: options.force }); // before the initialisation's work
      const started = Date.now();
      const model = await GPT2.init(config, { seed: options.seed, threads: options.threads });
      try {
        await model.save(options.out, { force: options.force });
      } finally {
        await model.dispose();
      }
      const parameters = countParameters(config);
      const summary = { out: options.out, size: options.size, seed: options.seed, parameters, config };
      if (options.json) process.stdout.write(terminalJson(summary) + '\n');
      else {
        process.stderr.write(
          `tweetsmith: wrote ${terminalText(options.out)}: ${options.size} GPT-2, ${(parameters / 1e6).toFixed(2)}M parameters, seed ${options.seed} ` +
            `(${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
        );
      }
    });
}
