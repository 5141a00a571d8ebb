// The `tweetsmith` command line: a thin shell over the library API.
// Each command lives in its own file under commands/ and registers itself here.
import { Command, CommanderError } from 'commander';
import { registerInitModel } from './commands/init-model.js';
import { registerBench } from './commands/bench.js';
import { registerDataset } from './commands/dataset.js';
import { registerDemo } from './commands/demo.js';
import { registerExport } from './commands/export.js';
import { registerGenerate } from './commands/generate.js';
import { registerTrain } from './commands/train.js';
import { registerPush } from './commands/push.js';
import { registerMerge } from './commands/merge.js';
import { registerServe } from './commands/serve.js';
import { readPackageVersion } from '../version.js';
import { terminalText } from '../terminal-text.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('tweetsmith')
    .description("Turn someone's posts into a GPT-2 that writes like them, on your own machine.")
    .version(readPackageVersion())
    .showHelpAfterError('(run with --help for usage)')
    // commander's errors quote the arguments (an unknown option, a bad value): shown as text, never obeyed.
    .configureOutput({ outputError: (text, write) => write(terminalText(text, { multiline: true })) });
  registerInitModel(program);
  registerDataset(program);
  registerTrain(program);
  registerGenerate(program);
  registerMerge(program);
  registerDemo(program);
  registerBench(program);
  registerPush(program);
  registerExport(program);
  registerServe(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    // A message may quote the input (a file name, a line of a file, a server's reply): printed as text, never obeyed.
    process.stderr.write(`tweetsmith: ${terminalText(err instanceof Error ? err.message : String(err), { multiline: true })}\n`);
    if (process.env.TWEETSMITH_DEBUG && err instanceof Error) process.stderr.write(`${terminalText(err.stack ?? '', { multiline: true })}\n`);
    process.exitCode = 1;
  }
}

await main(process.argv);
