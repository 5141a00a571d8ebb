// `tweetsmith push`: a model folder to a Hugging Face hub repository.
import { Command } from 'commander';
import { pushToHub, type PushProgress } from '../../hub/push.js';

interface PushCommandOptions {
  repo: string;
  private?: boolean;
  revision: string;
  message?: string;
  tokenFile?: string;
  run: boolean;
  json?: boolean;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** One line on stderr per step and per large file, not per percent. */
function reporter(): (event: PushProgress) => void {
  const log = (line: string) => process.stderr.write(`tweetsmith: ${line}\n`);
  return (event) => {
    if (event.type === 'repo') log(`${event.created ? 'created' : 'pushing to'} ${event.url}`);
    else if (event.type === 'phase' && event.phase === 'committing') log('committing');
    else if (event.type === 'file' && event.state === 'uploading' && event.progress === 0) log(`uploading ${event.path}`);
  };
}

export function registerPush(program: Command): void {
  program
    .command('push')
    .description('Publish a model folder (weights, config, tokenizer, card, run record) to a Hugging Face hub repository')
    .argument('<model>', 'the model folder that train or init-model wrote')
    .requiredOption('--repo <user/name>', 'the hub repository, created when missing (NAME alone: under your account)')
    .option('--private', 'create the repository as private (an existing one keeps its visibility)')
    .option('--revision <branch>', 'the branch to commit to (created when missing)', 'main')
    .option('--message <text>', 'the commit message (default: "Upload <folder> with tweetsmith")')
    .option('--token-file <file>', 'read the access token from this file (default: HF_TOKEN, else the token huggingface-cli login saved)')
    .option('--no-run', 'leave out run/, the run record (it holds the posts and the training text)')
    .option('--json', 'print the result as JSON on stdout and nothing else')
    .addHelpText(
      'after',
      '\nThe token needs write access (make one at https://huggingface.co/settings/tokens); it is sent to the hub only, never printed.\n' +
        'HF_ENDPOINT points at another hub. Running the same command again is safe: files the hub has are not sent twice.\n' +
        'Example: HF_TOKEN=hf_... tweetsmith push models/me --repo alice/alice-bot\n',
    )
    .action(async (model: string, o: PushCommandOptions) => {
      const result = await pushToHub(model, {
        repo: o.repo,
        private: o.private,
        revision: o.revision,
        message: o.message,
        tokenFile: o.tokenFile,
        includeRun: o.run,
        progress: o.json ? undefined : reporter(),
      });
      if (o.json) {
        process.stdout.write(JSON.stringify(result) + '\n');
        return;
      }
      const bytes = result.files.reduce((sum, f) => sum + f.size, 0);
      process.stderr.write(`tweetsmith: pushed ${result.files.length} files (${megabytes(bytes)}) to ${result.repo}, commit ${result.commit.oid.slice(0, 8)}\n`);
      if (result.leftOut.length > 0) process.stderr.write(`tweetsmith: left out (not model files): ${result.leftOut.join(', ')}\n`);
      process.stdout.write(`${result.url}\n`);
    });
}
