// `tweetsmith merge ADAPTER --out DIR`: a LoRA adapter folded into its base,
// W' = W + (alpha/r)·B·A, written as a whole model (what PEFT's merge_and_unload
// gives), which then loads without PEFT and samples at the base's speed.
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GPT2 } from '../../engine/gpt2.js';
import { isAdapterDir, locateBase, readAdapterConfig } from '../../model/lora-adapter.js';
import { checkOutputDir } from '../../model/output-dir.js';
import { wholeNumber } from '../option-parsers.js';

interface MergeOptions {
  out: string;
  threads?: number;
  force?: boolean;
  json?: boolean;
}

function mergedCard(adapter: string, base: string, rank: number, alpha: number, targets: readonly string[]): string {
  return [
    '---',
    'library_name: transformers',
    'tags:',
    '- tweetsmith',
    '- text-generation',
    '- gpt2',
    '---',
    '',
    `A GPT-2 made by **tweetsmith merge**: the LoRA adapter \`${adapter.replace(/`/g, '')}\` (rank ${rank}, alpha ${alpha}, on ${targets.join(', ')}) ` +
      `folded into the weights of its base, \`${base.replace(/`/g, '')}\`: W + (alpha / rank)·B·A for every adapted layer.`,
    '',
    "The adapter's own model card and run record, when it had them, are kept as ADAPTER_README.md and run/.",
    '',
  ].join('\n');
}

export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description('Fold a LoRA adapter (PEFT layout, e.g. from train --lora) into its base and write the whole model')
    .argument('<adapter>', 'the adapter folder (adapter_config.json + adapter_model.safetensors)')
    .requiredOption('--out <dir>', 'the model folder to write (new, empty, or a model tweetsmith wrote before)')
    .option('--force', 'replace a tweetsmith output of another kind at --out (never a folder holding other files)')
    .option('--threads <n>', 'CPU threads (default: all cores)', wholeNumber(1))
    .option('--json', 'print what was written as one JSON document on stdout')
    .addHelpText('after', '\nExample: tweetsmith train posts.jsonl --base gpt2 --lora --out models/me-lora\n         tweetsmith merge models/me-lora --out models/me\n')
    .action(async (adapter: string, o: MergeOptions) => {
      if (!isAdapterDir(adapter)) throw new Error(`${adapter}: not a LoRA adapter folder (no adapter_config.json)`);
      const { settings, base } = await readAdapterConfig(adapter);
      await checkOutputDir(o.out, [adapter, locateBase(adapter, base)], { force: o.force });
      const model = await GPT2.load(adapter, { threads: o.threads, device: 'cpu' });
      try {
        await model.mergeLora();
        await model.save(o.out, {
          force: o.force,
          addFiles: async (tmp) => {
            await writeFile(join(tmp, 'README.md'), mergedCard(adapter, base, settings.rank, settings.alpha, settings.targets));
            if (existsSync(join(adapter, 'run'))) await cp(join(adapter, 'run'), join(tmp, 'run'), { recursive: true });
          },
        });
      } finally {
        await model.dispose();
      }
      if (o.json) process.stdout.write(JSON.stringify({ out: o.out, adapter, base, lora: settings }) + '\n');
      else process.stderr.write(`tweetsmith: wrote ${o.out}: ${adapter} merged into ${base}\n`);
    });
}
