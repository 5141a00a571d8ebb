// Shows a training run's events on stderr: the data table, a progress bar with
// loss, tokens/s and ETA, a loss line every few steps, validation, checkpoints.
// What came from outside (names and handles in the table and warnings, hub file
// names, paths, device names from drivers) is printed through terminalText.
import type { TrainEvent, TrainingRun } from '../train/train.js';
import { ProgressBar } from './progress-bar.js';
import { terminalText as safe } from '../terminal-text.js';

export async function showTrainingProgress(run: TrainingRun, options: { logEvery: number; quiet?: boolean }): Promise<void> {
  const err = (line: string) => process.stderr.write(`${line}\n`);
  let bar: ProgressBar | undefined;
  let download: { file: string; bar: ProgressBar } | undefined;
  let smoothed: number | undefined;
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  for await (const e of run as AsyncIterable<TrainEvent>) {
    if (options.quiet) continue;
    switch (e.type) {
      case 'download':
        if (download?.file !== e.file) {
          download?.bar.finish();
          download = { file: e.file, bar: new ProgressBar(`downloading ${safe(e.file)}`) };
        }
        if (e.total) download.bar.update({ done: Math.round(e.received / 2 ** 20), total: Math.round(e.total / 2 ** 20), detail: `${mib(e.received)} of ${mib(e.total)} MiB` });
        break;
      case 'base':
        download?.bar.finish();
        download = undefined;
        err(`tweetsmith: base model: ${safe(e.dir)}`);
        break;
      case 'device':
        err(`tweetsmith: device: ${safe(`${e.device} (${e.reason})`)}`);
        if (e.fallbackOps.length > 0) err(`tweetsmith: operations this device lacks ran on the CPU: ${safe(e.fallbackOps.join(', '))}`);
        break;
      case 'dataset':
        err(`\n${safe(e.table, { multiline: true })}\n`);
        err(`training text: ${e.stats.trainCharacters.toLocaleString('en')} characters, ${e.stats.trainTokens.toLocaleString('en')} tokens, ` +
          `${e.stats.trainBlocks} blocks of ${e.stats.blockSize} (seed ${e.stats.seed})`);
        for (const w of e.warnings) err(`warning: ${safe(w)}`);
        break;
      case 'validation':
        (bar ?? { log: err }).log(`validation loss ${e.when} training: ${e.loss.toFixed(4)} (perplexity ${e.perplexity.toFixed(1)})`);
        break;
      case 'start':
        err(e.startStep > 0 ? `resuming at step ${e.startStep} of ${e.totalSteps}` : `training: ${e.totalSteps} steps of ${e.tokensPerStep} tokens`);
        bar = new ProgressBar('step');
        break;
      case 'step': {
        smoothed = smoothed === undefined ? e.row.loss : 0.9 * smoothed + 0.1 * e.row.loss;
        if (e.row.step % options.logEvery === 0 || e.row.validLoss !== undefined) {
          const valid = e.row.validLoss !== undefined ? `, validation loss ${e.row.validLoss.toFixed(4)}` : '';
          bar?.log(`step ${e.row.step}: loss ${e.row.loss.toFixed(4)}, lr ${e.row.lr.toExponential(3)}, ${e.row.tokensPerSecond.toFixed(0)} tok/s${valid}`);
        }
        bar?.update({ done: e.row.step, total: e.totalSteps, detail: `loss ${smoothed.toFixed(3)} · ${e.row.tokensPerSecond.toFixed(0)} tok/s` });
        break;
      }
      case 'checkpoint':
        (bar ?? { log: err }).log(`checkpoint at step ${e.step}: ${safe(e.dir)}`);
        break;
      case 'samples':
        bar?.finish();
        bar = undefined;
        break;
      case 'note':
        (bar ?? { log: err }).log(`tweetsmith: ${e.message}`);
        break;
      case 'weights':
        bar?.finish();
        bar = undefined;
        err(`tweetsmith: trained model written to ${e.dir}; now its samples, card and run report`);
        break;
      case 'saved':
        err(`tweetsmith: model written to ${safe(e.dir)} (model card: README.md, run record: run/report.html)`);
        break;
    }
  }
  bar?.finish();
}
