// `tweetsmith demo`: the whole pipeline offline, in a few minutes on 2 cores, on
// a fictional X archive shipped with the package and a small GPT-2 initialised
// from scratch (so it says so: real results need a pre-trained base).
import { Command } from 'commander';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEMO_SETTINGS, SAMPLING_DEFAULTS, TRAIN_DEFAULTS } from '../../defaults.js';
import { GPT2 } from '../../engine/gpt2.js';
import { presetConfig } from '../../model/config.js';
import { countParameters } from '../../model/parameters.js';
import { packageRoot } from '../../paths.js';
import { train } from '../../train/train.js';
import type { DeviceRequest } from '../../engine/device.js';
import { DEVICE_HELP, deviceName, threadCount, wholeNumber } from '../option-parsers.js';
import { runTrainingFromCli } from './train.js';
import { terminalJson, terminalText } from '../../terminal-text.js';

export const DEMO_ARCHIVE = join(packageRoot, 'demo', 'archive');

interface DemoOptions {
  out: string;
  maxSteps?: number;
  threads?: number;
  device?: DeviceRequest;
  json?: boolean;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Run the whole pipeline offline on a fictional archive shipped with tweetsmith (a few minutes on 2 cores)')
    .option('--out <dir>', 'where to write the demo model: new, empty, or a model tweetsmith wrote (a folder holding other files is refused)', 'tweetsmith-demo')
    .option('--max-steps <n>', 'stop after this many steps (a quicker, rougher demo)', wholeNumber(1))
    .option('--threads <n>', 'CPU threads (default: all cores)', threadCount)
    .option('--device <name>', DEVICE_HELP, deviceName)
    .option('--json', 'print the run summary as JSON on stdout')
    .action(async (o: DemoOptions) => {
      const err = (line: string) => process.stderr.write(`${line}\n`);
      const config = presetConfig(DEMO_SETTINGS.size);
      err(`tweetsmith demo: @fenwick_lighthouse, a fictional lighthouse keeper whose archive ships with tweetsmith.`);
      err(
        `The model is a ${DEMO_SETTINGS.size} GPT-2 (${(countParameters(config) / 1e6).toFixed(1)}M parameters) initialised from scratch, so it ` +
          `learns her words, not English. Real results need a pre-trained base:\n  tweetsmith train your-archive.zip --base gpt2 --out models/me\n`,
      );
      const work = mkdtempSync(join(tmpdir(), 'tweetsmith-demo-'));
      try {
        const baseDir = join(work, 'base');
        const base = await GPT2.init(config, { seed: 0, threads: o.threads });
        await base.save(baseDir);
        await base.dispose();
        const run = train({
          sources: [DEMO_ARCHIVE],
          base: baseDir,
          baseIsRandom: true,
          baseLabel: `${DEMO_SETTINGS.size} GPT-2, random initialisation (seed 0)`,
          out: resolve(o.out),
          epochs: DEMO_SETTINGS.epochs,
          lr: DEMO_SETTINGS.lr,
          warmup: DEMO_SETTINGS.warmup,
          validSplit: DEMO_SETTINGS.validSplit,
          evalEvery: 25,
          seed: DEMO_SETTINGS.seed,
          maxSteps: o.maxSteps,
          threads: o.threads,
          device: o.device,
          samples: TRAIN_DEFAULTS.samples,
        });
        const result = await runTrainingFromCli(run, 25);
        if (result.interrupted) {
          process.exitCode = 130;
          return;
        }
        const f = result.summary.final;
        if (f.validLoss !== undefined && f.validLossBefore !== undefined) {
          err(`\nvalidation loss: ${f.validLossBefore.toFixed(3)} before → ${f.validLoss.toFixed(3)} after (perplexity ${f.validPerplexity!.toFixed(1)})`);
        }
        err(`\nSamples ("${SAMPLING_DEFAULTS.prompt}" …):`);
        for (const s of result.summary.samples) err(`  ${terminalText(s.text)}`);
        err(`\nThe model, its card and its run report are in ${o.out}/ (open ${o.out}/run/report.html).`);
        err(`Try: tweetsmith generate --model ${o.out} "The tide"`);
        if (o.json) process.stdout.write(terminalJson({ out: result.out, final: f, samples: result.summary.samples }) + '\n');
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
}
