// `tweetsmith serve`: the local web app. It prints the page's URL on stdout,
// logs on stderr, and on Ctrl-C or SIGTERM stops the run that trains with a
// checkpoint (it shows as 'interrupted', resumable) before it exits.
import { spawn } from 'node:child_process';
import { Command, InvalidArgumentError, Option } from 'commander';
import { SERVE_DEFAULTS } from '../../defaults.js';
import { isLoopbackHost } from '../../serve/http/origin-check.js';
import { formatBytes, parseByteSize } from '../../serve/http/uploads.js';
import { startServer } from '../../serve/server.js';
import { terminalText } from '../../terminal-text.js';
import { threadCount, wholeNumber } from '../option-parsers.js';

interface ServeCommandOptions {
  port: number;
  host: string;
  dir: string;
  open?: boolean;
  maxUpload: number;
  threads?: number;
  checkpointEvery: number;
}

function byteSize(value: string): number {
  try {
    return parseByteSize(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** Opens `url` in the default browser; a failure is a note, never an error. */
function openBrowser(url: string, note: (line: string) => void): void {
  const [command, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  const fail = (why: string) => note(`could not open a browser (${why}); open ${url} yourself`);
  try {
    const child = spawn(command, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', (err) => fail(err.message));
    child.on('exit', (code) => code !== 0 && code !== null && fail(`${command} exited with ${code}`));
    child.unref();
  } catch (err) {
    fail((err as Error).message);
  }
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Serve the web app: upload posts, train, watch, generate and download, in your browser')
    .option('--port <n>', 'the port to listen on (0: any free one)', wholeNumber(0, 65535), SERVE_DEFAULTS.port)
    .option('--host <address>', 'the address to listen on; anything but loopback lets anyone on the network start training', SERVE_DEFAULTS.host)
    .option('--dir <workdir>', 'where uploads and runs live (made if missing); runs survive a restart', SERVE_DEFAULTS.workDir)
    .option('--open', 'open the page in the default browser')
    .addOption(
      new Option('--max-upload <size>', 'the largest upload, e.g. 512MB or 4GB (an X archive with media can be several GB)')
        .argParser(byteSize)
        .default(SERVE_DEFAULTS.maxUploadBytes, formatBytes(SERVE_DEFAULTS.maxUploadBytes)),
    )
    .option('--threads <n>', 'CPU threads for training and, separately, for generation (default: all cores)', threadCount)
    .option('--checkpoint-every <n>', 'a training run also writes a checkpoint every n steps, so a killed server loses little', wholeNumber(1), SERVE_DEFAULTS.checkpointEvery)
    .addHelpText(
      'after',
      `\nThe page's URL is printed on stdout. One run trains at a time; others queue. Ctrl-C stops the\n` +
        `training run with a checkpoint (it shows as interrupted and can be resumed) and exits.\n\n` +
        `Examples:\n  tweetsmith serve --open\n  tweetsmith serve --dir ~/bots --port 8080\n`,
    )
    .action(async (o: ServeCommandOptions) => {
      const note = (line: string) => process.stderr.write(`tweetsmith serve: ${terminalText(line)}\n`);
      if (!isLoopbackHost(o.host)) {
        note(`WARNING: listening on ${o.host}: anyone who can reach this machine on the network can upload files, start training and read the runs. There is no login.`);
      }
      const server = await startServer({ dir: o.dir, host: o.host, port: o.port, maxUploadBytes: o.maxUpload, threads: o.threads, checkpointEvery: o.checkpointEvery });
      note(`work dir ${server.workDir}, uploads up to ${formatBytes(o.maxUpload)}`);
      process.stdout.write(`${server.url}\n`);
      if (o.open) openBrowser(server.url, note);

      await new Promise<void>((resolve) => {
        let stopping = false;
        const onSignal = (signal: NodeJS.Signals) => {
          if (stopping) {
            note(`${signal} again: exiting without waiting for the checkpoint`);
            process.exit(130);
          }
          stopping = true;
          note(`${signal}: stopping the training run with a checkpoint, then exiting (press Ctrl-C again to quit at once)`);
          server.close().then(resolve, (err) => {
            note(`closing failed: ${(err as Error).message}`);
            resolve();
          });
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
    });
}
