// `tweetsmith init-model`: a randomly initialised GPT-2 in a model directory.
import { Command } from 'commander';
import { GPT2 } from '../../engine/gpt2.js';
import { PRESETS, presetConfig, type PresetName } from '../../model/config.js';
import { countParameters } from '../../model/parameters.js';
import { contextLength, headCount, layerCount, oneOf, threadCount, wholeNumber, width } from '../option-parsers.js';

interface InitModelOptions {
  size: PresetName;
  out: string;
  seed: number;
  nLayer?: number;
  nHead?: number;
  nEmbd?: number;
  nCtx?: number;
  threads?: number;
  json?: boolean;
}

export function registerInitModel(program: Command): void {
  program
    .command('init-model')
    .description("Write a GPT-2 with random weights (initialised as Hugging Face does) and GPT-2's tokenizer files")
    .requiredOption('--out <dir>', 'the model directory to write (replaced as a whole if it exists)')
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
      const started = Date.now();
      const model = await GPT2.init(config, { seed: options.seed, threads: options.threads });
      await model.save(options.out);
      await model.dispose();
      const parameters = countParameters(config);
      const summary = { out: options.out, size: options.size, seed: options.seed, parameters, config };
      if (options.json) process.stdout.write(JSON.stringify(summary) + '\n');
      else {
        process.stderr.write(
          `tweetsmith: wrote ${options.out}: ${options.size} GPT-2, ${(parameters / 1e6).toFixed(2)}M parameters, seed ${options.seed} ` +
            `(${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
        );
      }
    });
}
