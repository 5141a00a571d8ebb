// `tweetsmith export`: a model directory as a GGUF file for llama.cpp / ollama /
// LM Studio, with an ollama Modelfile beside it.
import { Command } from 'commander';
import { exportGGUF, GGUF_TYPES, type GGUFType } from '../../export/gguf.js';
import { oneOf } from '../option-parsers.js';

interface ExportOptions {
  format: 'gguf';
  out: string;
  type: GGUFType;
  force?: boolean;
  modelfile: boolean;
  json?: boolean;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('Write a model as a GGUF file for llama.cpp, ollama and LM Studio, with an ollama Modelfile beside it')
    .argument('<model>', 'the model directory (config.json, model.safetensors and the tokenizer files)')
    .requiredOption('--format <format>', 'the file format: gguf', oneOf(['gguf'] as const))
    .requiredOption('--out <file>', 'the GGUF file to write, e.g. bot.gguf (the Modelfile goes in the same folder)')
    .option('--type <type>', `the weight matrices' format: ${GGUF_TYPES.join(', ')} (norms, biases and positions stay f32)`, oneOf(GGUF_TYPES), 'f32')
    .option('--force', 'replace a GGUF and Modelfile that tweetsmith wrote before (a file it did not write is never replaced)')
    .option('--no-modelfile', 'do not write the ollama Modelfile')
    .option('--json', 'print what was written as JSON on stdout')
    .addHelpText(
      'after',
      '\nExample:\n  tweetsmith export models/me --format gguf --out me/me.gguf --type q8_0\n' +
        '  ollama create me -f me/Modelfile && ollama run me "My dream is"\n' +
        '  llama-completion -m me/me.gguf -p "My dream is" -n 60 --temp 1 --top-p 0.95 --top-k 0 --repeat-penalty 1\n',
    )
    .action(async (model: string, options: ExportOptions) => {
      const result = await exportGGUF(model, options.out, { type: options.type, force: options.force, modelfile: options.modelfile });
      if (options.json) {
        process.stdout.write(JSON.stringify(result) + '\n');
        return;
      }
      const types = Object.entries(result.tensorTypes).map(([t, n]) => `${n} ${t}`).join(', ');
      process.stderr.write(
        `tweetsmith: wrote ${result.file} (${options.type}, ${(result.bytes / 2 ** 20).toFixed(1)} MiB; tensors: ${types})\n` +
          (result.modelfile ? `tweetsmith: wrote ${result.modelfile}; make the ollama model with: ollama create NAME -f ${result.modelfile}\n` : ''),
      );
    });
}
