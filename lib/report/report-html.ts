// report.html: one training run as a page a person would rather read than
// JSON. One self-contained file (inline CSS and SVG, no script, no font or
// image to fetch), so it opens offline and prints. It loads nothing from the
// network: its Content-Security-Policy allows only its own inline style and
// data: images, so opening it tells no server that it was opened. An avatar is
// shown only when the source gave it as a data: image; a remote picture (a URL
// on X's, Bluesky's or a Mastodon server's CDN) is left out and the person's
// initial stands in. Its only links out are the "Tweet" buttons of the samples
// (the original tool's tweet-intent link), followed only when clicked.
//
// Every string that came from a post, a profile or a file name is escaped.
import { dataTable, type DataTableColumn } from '../data/index.js';
import { escapeHtml, safeDataImageUrl } from './escape-html.js';
import {
  formatDate,
  formatDuration,
  formatInt,
  formatLoss,
  formatParameters,
  formatPercent,
  formatPerplexity,
  formatRate,
} from './format.js';
import {
  baseModelLabel,
  displayName,
  hyperparameterRows,
  initialOf,
  kindLabel,
  modelShape,
  runFacts,
  sampleText,
  type RunFacts,
} from './run-facts.js';
import { REPORT_CSS } from './report-style.js';
import type { RunSummary, Sample } from '../train/run-summary.js';
import { ema, smoothingWeight } from './smoothing.js';
import { renderLineChart, type ChartSeries } from './svg-line-chart.js';

const TWEET_INTENT = 'https://twitter.com/intent/tweet?text=';

/** Nothing from the network, no script, no plugin, no form, no <base>: only our inline CSS and data: images. */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

export function renderReportHtml(summary: RunSummary): string {
  const facts = runFacts(summary);
  const title = `${summary.modelName} · tweetsmith training report`;
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // First in <head>, before anything it governs.
    `<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // The tweet links, when clicked, do not tell X where they were clicked from.
    '<meta name="referrer" content="no-referrer">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${REPORT_CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
    hero(summary, facts),
    demoNotice(summary),
    keyNumbers(summary, facts),
    lossSection(summary),
    learningRateSection(summary),
    samplesSection(summary),
    dataSection(summary),
    procedureSection(summary, facts),
    timingSection(summary, facts),
    filesSection(summary),
    `<footer>Made with tweetsmith ${escapeHtml(summary.tweetsmithVersion)}, a Node.js re-creation of huggingtweets by Boris Dayma.</footer>`,
    '</main>',
    '</body>',
    '</html>',
    '',
  ]
    .filter((part) => part !== '')
    .join('\n');
}

// ---------------------------------------------------------------- header

type User = RunSummary['dataset']['users'][number];

// A disc with the person's initial, and the picture laid over it as a
// background when the source gave it inline (a data: image); a remote picture
// is never loaded (see the top of this file), and the initial shows instead.
function avatar(user: User): string {
  const url = safeDataImageUrl(user.avatarUrl);
  const photo = url ? `<span class="photo" style="background-image: url('${escapeHtml(url)}')"></span>` : '';
  return `<div class="avatar placeholder" aria-hidden="true">${escapeHtml(initialOf(user))}${photo}</div>`;
}

function hero(summary: RunSummary, facts: RunFacts): string {
  const users = summary.dataset.users;
  const people = users
    .map((user) => {
      const handle = `<span class="handle">@${escapeHtml(user.handle)}</span>`;
      return user.name?.trim() ? `${escapeHtml(displayName(user))} ${handle}` : handle;
    })
    .join(' &amp; ');
  const meta = [
    `trained ${formatDate(summary.finishedAt)}`,
    `${formatDuration(summary.trainSeconds)} on ${summary.hyperparameters.device}`,
    `${formatInt(facts.stepsDone)} steps`,
    `tweetsmith ${summary.tweetsmithVersion}`,
  ];
  return [
    '<header class="hero">',
    `<div class="avatars">${users.map(avatar).join('')}</div>`,
    '<div>',
    `<p class="kind">${kindLabel(summary)}</p>`,
    `<h1>${escapeHtml(summary.modelName)}</h1>`,
    `<p class="who">${people}</p>`,
    `<p class="meta">${escapeHtml(meta.join(' · '))}</p>`,
    '</div>',
    '</header>',
  ].join('\n');
}

function demoNotice(summary: RunSummary): string {
  const lines: string[] = [];
  if (summary.baseIsRandom) {
    lines.push(
      '<p><strong>Demo model.</strong> It was trained from a random initialisation, not from a pre-trained GPT-2, ' +
        'so its samples are only lightly shaped by the posts. Real results need a pre-trained base such as <code>gpt2</code>.</p>',
    );
  }
  const facts = runFacts(summary);
  if (facts.interrupted) {
    lines.push(`<p><strong>Interrupted.</strong> Training stopped after ${formatInt(facts.stepsDone)} of ${formatInt(summary.hyperparameters.steps)} steps.</p>`);
  }
  return lines.length ? `<div class="notice" role="note">\n${lines.join('\n')}\n</div>` : '';
}

// ---------------------------------------------------------------- key numbers

function stat(label: string, value: string, note?: string): string {
  return (
    `<li class="stat"><span class="label">${escapeHtml(label)}</span>` +
    `<span class="value">${escapeHtml(value)}</span>` +
    (note ? `<span class="note">${escapeHtml(note)}</span>` : '') +
    '</li>'
  );
}

function keyNumbers(summary: RunSummary, facts: RunFacts): string {
  const final = summary.final;
  const tiles = [stat('Training loss', formatLoss(final.trainLoss), 'final')];
  if (final.validLoss !== undefined) {
    const before = final.validLossBefore !== undefined ? `before: ${formatLoss(final.validLossBefore)}` : 'held-out posts';
    tiles.push(stat('Validation loss', formatLoss(final.validLoss), before));
  }
  if (final.validPerplexity !== undefined) tiles.push(stat('Perplexity', formatPerplexity(final.validPerplexity), 'validation'));
  tiles.push(
    stat('Steps', formatInt(facts.stepsDone), `of ${formatInt(facts.tokensPerStep)} tokens`),
    stat(
      'Training time',
      formatDuration(summary.trainSeconds),
      facts.tokensPerSecond !== undefined ? `${formatInt(facts.tokensPerSecond)} tokens/s` : undefined,
    ),
    stat('Parameters', formatParameters(summary.model.parameters), `${summary.model.nLayer} layers × ${summary.model.nEmbd}`),
  );
  return `<ul class="stats">\n${tiles.join('\n')}\n</ul>`;
}

// ---------------------------------------------------------------- charts

function legend(items: Array<[className: string, text: string]>): string {
  return `<ul class="legend">${items.map(([cls, text]) => `<li><span class="swatch ${cls}"></span>${escapeHtml(text)}</li>`).join('')}</ul>`;
}

function lossSection(summary: RunSummary): string {
  const rows = summary.metrics;
  if (rows.length === 0) {
    return '<section>\n<h2>Loss</h2>\n<p class="lead">No training step was logged.</p>\n</section>';
  }
  const weight = smoothingWeight(rows.length);
  const smoothed = ema(
    rows.map((row) => row.loss),
    weight,
  );
  // The validation loss before fine-tuning is the curve's starting point, at step 0.
  const valid: Array<readonly [number, number]> = [];
  if (summary.final.validLossBefore !== undefined) valid.push([0, summary.final.validLossBefore]);
  for (const row of rows) if (row.validLoss !== undefined) valid.push([row.step, row.validLoss]);
  // The validation after training, when the run measured it only at the end.
  const last = rows.at(-1)!;
  if (summary.final.validLoss !== undefined && last.validLoss === undefined) valid.push([last.step, summary.final.validLoss]);

  const series: ChartSeries[] = [
    { className: 'train', mark: 'line', points: rows.map((row) => [row.step, row.loss] as const) },
    { className: 'smoothed', mark: 'line', points: rows.map((row, i) => [row.step, smoothed[i]!] as const) },
  ];
  if (valid.length > 0) {
    series.push(
      { className: 'valid-line', mark: 'line', points: valid },
      {
        className: 'valid',
        mark: 'dots',
        points: valid,
        describe: ([step, loss]) => (step === 0 ? `before fine-tuning: validation loss ${formatLoss(loss)}` : `step ${step}: validation loss ${formatLoss(loss)}`),
      },
    );
  }
  const chart = renderLineChart({
    title: 'Training loss per optimizer step, smoothed, and validation loss',
    width: 900,
    height: 360,
    xLabel: 'optimizer step',
    yLabel: 'loss (cross-entropy, nats)',
    series,
    formatX: formatInt,
    formatY: (y) => Number(y.toPrecision(4)).toString(),
  });
  const items: Array<[string, string]> = [
    ['train', 'training loss, each step'],
    ['smoothed', `moving average (EMA, weight ${weight.toFixed(2)})`],
  ];
  if (valid.length > 0) items.push(['valid', summary.final.validLossBefore !== undefined ? 'validation loss (step 0: before fine-tuning)' : 'validation loss']);
  return [
    '<section>',
    '<h2>Loss</h2>',
    `<p class="lead">Mean cross-entropy of the next token, on each step’s training blocks${valid.length > 0 ? ' and on the held-out posts' : ''}.</p>`,
    `<div class="figure">${chart}</div>`,
    legend(items),
    '</section>',
  ].join('\n');
}

function learningRateSection(summary: RunSummary): string {
  const rows = summary.metrics;
  if (rows.length === 0) return '';
  const hp = summary.hyperparameters;
  const chart = renderLineChart({
    title: 'Learning rate per optimizer step',
    width: 900,
    height: 190,
    xLabel: 'optimizer step',
    yLabel: 'learning rate',
    series: [{ className: 'lr', mark: 'line', points: rows.map((row) => [row.step, row.lr] as const) }],
    formatX: formatInt,
    formatY: formatRate,
    yFromZero: true,
    yTicks: 3,
  });
  const warmup = hp.warmup > 0 ? `, after a warm-up over ${formatPercent(hp.warmup)} of the steps` : '';
  return [
    '<section>',
    '<h2>Learning rate</h2>',
    `<p class="lead">Peak ${escapeHtml(formatRate(hp.learningRate))}, ${escapeHtml(hp.schedule)} schedule${escapeHtml(warmup)}.</p>`,
    `<div class="figure">${chart}</div>`,
    '</section>',
  ].join('\n');
}

// ---------------------------------------------------------------- samples

/** The original tool's "Tweet" button: a tweet-intent link that quotes the sample and says what wrote it. */
export function tweetIntentUrl(summary: RunSummary, sample: Sample): string {
  const bot = summary.dataset.kind === 'cyborg' ? 'cyborg' : 'bot';
  const text = `“${sampleText(sample).trim()}” — 🤖 ${summary.modelName} ${bot}, made with tweetsmith`;
  return TWEET_INTENT + encodeURIComponent(text);
}

function samplesSection(summary: RunSummary): string {
  if (summary.samples.length === 0) return '';
  const items = summary.samples.map((sample) => {
    const text = sampleText(sample).trim();
    const prompt = sample.prompt.trim();
    const shown =
      prompt && text.startsWith(prompt) ? `<span class="prompt">${escapeHtml(prompt)}</span>${escapeHtml(text.slice(prompt.length))}` : escapeHtml(text);
    return (
      `<li class="sample"><p>${shown}</p>` +
      `<a class="tweet" href="${escapeHtml(tweetIntentUrl(summary, sample))}" target="_blank" rel="noopener noreferrer">Tweet</a></li>`
    );
  });
  return [
    '<section>',
    '<h2>Samples</h2>',
    '<p class="lead">Generated at the end of training; the prompt is in bold.</p>',
    `<ol class="samples">\n${items.join('\n')}\n</ol>`,
    '</section>',
  ].join('\n');
}

// ---------------------------------------------------------------- training data

/** A table whose first column labels the rows; `head` undefined for a plain list of label/value rows. */
function table(head: string[] | undefined, rows: string[][]): string {
  return [
    '<table>',
    ...(head ? [`<thead><tr>${head.map((h, i) => `<th${i > 0 ? ' class="num"' : ''} scope="col">${escapeHtml(h)}</th>`).join('')}</tr></thead>`] : []),
    `<tbody>${rows
      .map(([label = '', ...values]) => `<tr><th scope="row">${escapeHtml(label)}</th>${values.map((v) => `<td class="num">${escapeHtml(v)}</td>`).join('')}</tr>`)
      .join('')}</tbody>`,
    '</table>',
  ].join('\n');
}

/** The model card's data table (lib/data), drawn from its numbers. */
export function renderDataTableHtml(users: readonly DataTableColumn[]): string {
  const { head, rows } = dataTable(users);
  return table(head, rows.map(({ label, counts }) => [label, ...counts.map(String)]));
}

function dataSection(summary: RunSummary): string {
  const ds = summary.dataset;
  const users = ds.users;
  const names = users.map((user) => (users.length === 1 ? 'Quantity' : displayName(user)));
  const perPerson = table(
    ['Per person', ...names],
    [
      ['Characters kept', ...users.map((u) => formatInt(u.characters))],
      ['Posts for training', ...users.map((u) => formatInt(u.trainTweets))],
      ['Posts for validation', ...users.map((u) => formatInt(u.validTweets))],
      ['Posts per epoch, balanced', ...users.map((u) => formatInt(u.upsampledTweets))],
    ],
  );
  const hasValid = ds.validSplit > 0;
  const sizes = table(
    hasValid ? ['Text', 'Training', 'Validation'] : ['Text', 'Training'],
    [
      ['Characters', formatInt(ds.trainCharacters), ...(hasValid ? [formatInt(ds.validCharacters)] : [])],
      ['Tokens', formatInt(ds.trainTokens), ...(hasValid ? [formatInt(ds.validTokens)] : [])],
      [`Blocks of ${formatInt(ds.blockSize)} tokens`, formatInt(ds.trainBlocks), ...(hasValid ? [formatInt(ds.validBlocks)] : [])],
    ],
  );
  const settings = [
    `${ds.epochs} shuffled epoch${ds.epochs === 1 ? '' : 's'}`,
    `seed ${ds.seed}`,
    hasValid ? `${formatPercent(ds.validSplit)} held out for validation` : 'no validation split',
    ds.allowNewlines ? 'line breaks kept' : 'line breaks turned into spaces',
  ];
  const warnings = ds.warnings.length ? `<ul class="notes">${ds.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>` : '';
  return [
    '<section>',
    '<h2>Training data</h2>',
    `<p class="lead">Posts of ${users.map((u) => `@${escapeHtml(u.handle)}`).join(' &amp; ')}: retweets and short posts are counted and left out.</p>`,
    '<div class="columns">',
    `<div>${renderDataTableHtml(users)}</div>`,
    `<div>${perPerson}</div>`,
    '</div>',
    '<h3>Training text</h3>',
    sizes,
    `<p class="lead" style="margin-top: 10px">${escapeHtml(settings.join(' · '))}; posts joined with <code>&lt;|endoftext|&gt;</code>.</p>`,
    warnings,
    '</section>',
  ]
    .filter((part) => part !== '')
    .join('\n');
}

// ---------------------------------------------------------------- procedure, timing, files

function procedureSection(summary: RunSummary, facts: RunFacts): string {
  const base = summary.baseIsRandom
    ? `Trained from a random initialisation (<code>${escapeHtml(baseModelLabel(summary.baseModel))}</code>), for a demo.`
    : `Fine-tuned from <code>${escapeHtml(baseModelLabel(summary.baseModel))}</code>.`;
  const rows = hyperparameterRows(summary, facts).map(({ label, value }) => [label, value]);
  return [
    '<section>',
    '<h2>Training procedure</h2>',
    `<p class="lead">${base} GPT-2 with ${escapeHtml(modelShape(summary.model))}: ${escapeHtml(formatInt(summary.model.parameters))} parameters.</p>`,
    table(['Hyper-parameter', 'Value'], rows),
    '</section>',
  ].join('\n');
}

function timingSection(summary: RunSummary, facts: RunFacts): string {
  const logged = summary.metrics.filter((row) => Number.isFinite(row.tokensPerSecond));
  const meanLogged = logged.length ? logged.reduce((sum, row) => sum + row.tokensPerSecond, 0) / logged.length : undefined;
  const rows: string[][] = [
    ['Started', formatDate(summary.startedAt)],
    ['Finished', formatDate(summary.finishedAt)],
    ['Training time', formatDuration(summary.trainSeconds)],
    ['Tokens trained', formatInt(facts.tokensTrained)],
  ];
  if (facts.tokensPerSecond !== undefined) rows.push(['Tokens per second, overall', formatInt(facts.tokensPerSecond)]);
  if (meanLogged !== undefined) rows.push(['Tokens per second, mean of the logged steps', formatInt(meanLogged)]);
  return ['<section>', '<h2>Timing</h2>', table(undefined, rows), '</section>'].join('\n');
}

function filesSection(summary: RunSummary): string {
  const files = Object.entries(summary.hashes);
  const rows = files.map(
    ([file, hash]) =>
      `<tr><th scope="row"><a href="${escapeHtml(encodeURIComponent(file))}">${escapeHtml(file)}</a></th><td><code class="hash">${escapeHtml(hash)}</code></td></tr>`,
  );
  return [
    '<section>',
    '<h2>Files</h2>',
    '<p class="lead">The run record beside this page: <code>config.json</code> (every setting), <code>metrics.jsonl</code> (every logged step), ' +
      '<code>samples.json</code>, and the data with its sha256:</p>',
    rows.length
      ? `<table>\n<thead><tr><th scope="col">File</th><th scope="col">sha256</th></tr></thead>\n<tbody>${rows.join('')}</tbody>\n</table>`
      : '<p>No file hashes were recorded.</p>',
    '</section>',
  ].join('\n');
}
