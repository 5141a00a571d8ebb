// The model card, report.html and the run record, from a run summary built by
// hand: a cyborg of two people with the seed card's counts, 50 logged steps
// with a validation split, and samples that try to break Markdown and HTML.
//
// With TWEETSMITH_REPORT_PREVIEW=DIR the card and the report are also written
// to DIR, to be looked at (README.md and run/, and the demo bot's README-bot.md, report-bot.html).
import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatasetStats } from '../lib/data/index.js';
import { niceAxis } from '../lib/report/chart-scale.js';
import {
  escapeMarkdown,
  renderDataTableHtml,
  renderModelCard,
  renderReportHtml,
  safeHttpUrl,
  tweetIntentUrl,
  writeRunRecord,
  RUN_RECORD_FILES,
} from '../lib/report/index.js';
import type { MetricRow, RunSummary } from '../lib/train/run-summary.js';
import { ema } from '../lib/report/smoothing.js';

const ALICE_AVATAR = 'https://pbs.twimg.com/profile_images/908716330991439874/9_53GDxB_400x400.jpg';

const SAMPLES = [
  { prompt: 'My dream is', text: 'My dream is to ship a model | not a notebook 🚀' },
  { prompt: 'My dream is', text: "My dream is <script>alert('pwned')</script> & a quiet weekend" },
  { prompt: 'My dream is', text: ' that every paper has code 🤖✨ #opensource' },
];

function metricRows(count: number): MetricRow[] {
  const peak = 1.372e-4;
  return Array.from({ length: count }, (_, i) => {
    const step = i + 1;
    const row: MetricRow = {
      step,
      // a falling loss with a deterministic wobble, as one block per step gives
      loss: 3.05 + 1.6 * Math.exp(-step / 12) + 0.12 * Math.sin(step * 1.7),
      lr: (peak * (1 + Math.cos((Math.PI * (step - 1)) / count))) / 2,
      tokensPerSecond: 1800 + 40 * Math.cos(step),
      elapsed: step * 0.57,
    };
    if (step % 10 === 0) row.validLoss = 3.6 + 0.9 * Math.exp(-step / 15);
    return row;
  });
}

function cyborgDataset(): DatasetStats {
  return {
    kind: 'cyborg',
    name: 'alice_dev-bob',
    users: [
      {
        handle: 'alice_dev',
        name: 'Alice <Dev> | ML',
        avatarUrl: ALICE_AVATAR,
        downloaded: 3250,
        retweets: 266,
        short: 394,
        kept: 2590,
        characters: 231_407,
        trainTweets: 2331,
        validTweets: 259,
        upsampledTweets: 2331,
      },
      {
        handle: 'bob',
        downloaded: 1020,
        retweets: 118,
        short: 152,
        kept: 750,
        characters: 61_230,
        trainTweets: 675,
        validTweets: 75,
        upsampledTweets: 2564,
      },
    ],
    seed: 42,
    epochs: 4,
    blockSize: 1024,
    validSplit: 0.1,
    allowNewlines: false,
    trainCharacters: 1_671_988,
    trainTokens: 412_377,
    trainBlocks: 402,
    validCharacters: 29_310,
    validTokens: 7_402,
    validBlocks: 7,
    warnings: [],
  };
}

function cyborgSummary(): RunSummary {
  return {
    modelName: 'alice_dev-bob',
    dataset: cyborgDataset(),
    baseModel: 'gpt2',
    baseIsRandom: false,
    model: { nLayer: 12, nHead: 12, nEmbd: 768, nPositions: 1024, vocabSize: 50257, parameters: 124_439_808 },
    hyperparameters: {
      epochs: 4,
      learningRate: 1.372e-4,
      schedule: 'cosine',
      warmup: 0,
      batchSize: 1,
      gradAccum: 1,
      blockSize: 1024,
      steps: 50,
      seed: 42,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0,
      maxGradNorm: 1,
      threads: 16,
      device: 'cuda',
    },
    metrics: metricRows(50),
    final: { trainLoss: 3.1234, validLoss: 3.7012, validPerplexity: Math.exp(3.7012), validLossBefore: 4.9876 },
    samples: SAMPLES,
    hashes: {},
    startedAt: '2024-05-01T14:03:00.000Z',
    finishedAt: '2024-05-01T14:03:29.000Z',
    trainSeconds: 28.5,
    tweetsmithVersion: '0.1.0',
  };
}

/** A one-person demo: random base, tiny model, no name, no avatar, no validation. */
function demoBotSummary(): RunSummary {
  const base = cyborgSummary();
  const [, bob] = base.dataset.users;
  return {
    ...base,
    modelName: 'bob',
    dataset: {
      ...base.dataset,
      kind: 'bot',
      name: 'bob',
      users: [{ ...bob!, trainTweets: 750, validTweets: 0, upsampledTweets: 750 }],
      validSplit: 0,
      validCharacters: 0,
      validTokens: 0,
      validBlocks: 0,
      blockSize: 128,
      trainTokens: 190_000,
      trainBlocks: 1484,
      warnings: ['@bob: 61230 characters of tweets; results may be poor under 40000'],
    },
    baseModel: '/home/someone/models/tiny-random',
    baseIsRandom: true,
    model: { nLayer: 2, nHead: 2, nEmbd: 64, nPositions: 128, vocabSize: 50257, parameters: 6_558_592 },
    hyperparameters: { ...base.hyperparameters, blockSize: 128, steps: 80, device: 'cpu', threads: 2 },
    metrics: metricRows(60).map(({ validLoss, ...row }) => row),
    final: { trainLoss: 6.2 },
    samples: [{ prompt: 'My dream is', text: 'My dream is the the of to' }],
  };
}

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const unescapeHtml = (s: string) => s.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

test.before(async () => {
  const dir = process.env.TWEETSMITH_REPORT_PREVIEW;
  if (!dir) return;
  await mkdir(dir, { recursive: true });
  const summary = cyborgSummary();
  const hashes = await writeRunRecord(join(dir, 'run'), summary, { postsJsonl: '{"text":"hi"}\n', trainText: 'train', validText: 'valid' });
  await writeFile(join(dir, 'README.md'), renderModelCard({ ...summary, hashes }));
  await writeFile(join(dir, 'README-bot.md'), renderModelCard(demoBotSummary()));
  await writeFile(join(dir, 'report-bot.html'), renderReportHtml(demoBotSummary()));
});

// ---------------------------------------------------------------- model card

test('card: front matter as the hub reads it, without a thumbnail', (t) => {
  const card = renderModelCard(cyborgSummary());
  const match = /^---\n([\s\S]*?)\n---\n/.exec(card);
  t.truthy(match, 'the card starts with YAML front matter');
  const yaml = match![1]!;
  t.regex(yaml, /^language: en$/m);
  t.regex(yaml, /^tags:\n- huggingtweets\n- tweetsmith\n- text-generation\n- gpt2$/m);
  t.regex(yaml, /^widget:\n- text: "My dream is"$/m);
  t.regex(yaml, /^pipeline_tag: text-generation$/m);
  t.regex(yaml, /^library_name: transformers$/m);
  t.regex(yaml, /^base_model: openai-community\/gpt2$/m);
  t.notRegex(yaml, /thumbnail/);
});

test('card: every section of the seed card that applies, in order', (t) => {
  const card = renderModelCard(cyborgSummary());
  const headers = [...card.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
  t.deepEqual(headers, [
    'How does it work?',
    'Training data',
    'Training procedure',
    'How to use',
    'Sample generations',
    'Limitations and bias',
    'About',
  ]);
  t.true(card.includes('🤖 AI Cyborg'));
  t.true(card.includes('@alice\\_dev') || card.includes('@alice_dev'));
  t.true(card.includes(`url('${ALICE_AVATAR}')`));
  t.true(card.includes('I was made with **tweetsmith** 0.1.0'));
  t.true(card.includes('https://github.com/borisdayma/huggingtweets'));
  // the pipeline, drawn in text rather than a hosted picture
  for (const step of ['download', 'clean', 'dataset', 'fine-tune', 'generate']) t.regex(card, new RegExp(`^ ${step} `, 'm'));
  t.notRegex(card, /!\[/, 'no image in Markdown');
});

test('card: the data table has one column per person and the exact counts', (t) => {
  const card = renderModelCard(cyborgSummary());
  t.true(card.includes('| Data | Alice &lt;Dev&gt; \\| ML | \\@bob |'));
  t.true(card.includes('| Tweets downloaded | 3250 | 1020 |'));
  t.true(card.includes('| Retweets | 266 | 118 |'));
  t.true(card.includes('| Short tweets | 394 | 152 |'));
  t.true(card.includes('| Tweets kept | 2590 | 750 |'));
  for (const user of cyborgSummary().dataset.users) t.is(user.downloaded, user.retweets + user.short + user.kept);
  t.true(card.includes('[run/report.html](run/report.html)'));
  t.true(card.includes('412,377 tokens'));
});

test('card: hyper-parameters, losses and time', (t) => {
  const card = renderModelCard(cyborgSummary());
  for (const row of [
    '| Epochs (shuffled copies of the data) | 4 |',
    '| Learning rate | 1.372e-4 |',
    '| Schedule | cosine decay to 0 |',
    '| Warm-up | none |',
    '| Batch size | 1 |',
    '| Gradient accumulation | 1 |',
    '| Block size | 1,024 tokens |',
    '| Optimizer | AdamW (β1 0.9, β2 0.999, ε 1e-8, weight decay 0) |',
    '| Gradient clipping | global norm 1 |',
    '| Optimizer steps | 50 |',
    '| Seed | 42 |',
    '| Device | cuda, 16 CPU threads |',
    '| Tokens trained | 51,200 (1,024 a step) |',
    '| Training loss (final) | 3.1234 |',
    '| Validation loss | 3.7012 |',
    `| Validation perplexity | ${Math.exp(3.7012).toFixed(2)} |`,
    `| Validation loss before fine-tuning | 4.9876 (perplexity ${Math.exp(4.9876).toFixed(2)}) |`,
  ]) {
    t.true(card.includes(row), row);
  }
  t.true(card.includes('| Training time | 29 s (started 2024-05-01 14:03 UTC) |'));
  t.true(card.includes('[GPT-2](https://huggingface.co/openai-community/gpt2)'));
  t.false(card.includes('random initialisation'));
});

test('card: how to use from the command line, Node and Python', (t) => {
  const card = renderModelCard(cyborgSummary());
  t.true(card.includes('npx tweetsmith generate --model ./alice_dev-bob "My dream is"'));
  t.true(card.includes("import { GPT2, Tokenizer } from 'tweetsmith';"));
  t.true(card.includes('const model = await GPT2.load(dir);'));
  t.true(card.includes('const tokenizer = await Tokenizer.fromDir(dir);'));
  t.regex(card, /for await \(const \{ sequence, token \} of model\.generate\(promptTokens, \{ n, maxLength: 160, topP: 0\.95, seed: 1 \}\)\)/);
  t.true(card.includes("generator = pipeline('text-generation',"));
});

test('card: no dead links to the services the original used', (t) => {
  for (const card of [renderModelCard(cyborgSummary()), renderModelCard(demoBotSummary())]) {
    t.notRegex(card, /wandb/i);
    t.notRegex(card, /colab/i);
    t.notRegex(card, /huggingtweets\.com/i);
    const links = [...card.matchAll(/https?:\/\/[^\s)'"<>`]+/g)].map((m) => m[0]);
    for (const link of links) {
      t.true(
        link === ALICE_AVATAR || link.startsWith('https://github.com/borisdayma/huggingtweets') || link.startsWith('https://huggingface.co/openai-community/gpt2'),
        link,
      );
    }
  }
});

test('card: user strings are escaped', (t) => {
  const card = renderModelCard(cyborgSummary());
  t.false(card.includes('<script>'));
  t.false(card.includes('<Dev>'));
  t.true(card.includes('Alice &lt;Dev&gt; &#124; ML 🤖') || card.includes('Alice &lt;Dev&gt; &#124; ML &amp; @bob 🤖'));
  t.true(card.includes('<strong>My dream is</strong> to ship a model \\| not a notebook 🚀'));
  t.true(card.includes("&lt;script&gt;alert\\('pwned'\\)&lt;/script&gt; &amp; a quiet weekend"));
  t.true(card.includes('<strong>My dream is</strong> that every paper has code 🤖✨ \\#opensource'));
  // a Markdown table row never gets an unescaped pipe from a sample
  for (const line of card.split('\n').filter((l) => l.includes('not a notebook'))) t.false(/[^\\]\|/.test(line.replace(/^\d+\. /, '')));
});

test('card: a demo bot from a random initialisation says so, and has no broken avatar', (t) => {
  const card = renderModelCard(demoBotSummary());
  t.true(card.includes('**This model was trained from a random initialisation, for a demo**'));
  t.true(card.includes('Real results need a pre-trained base such as `gpt2`'));
  t.true(card.includes('only lightly shaped by the posts'));
  t.true(card.includes('🤖 AI Bot'));
  t.true(card.includes('@bob bot'));
  t.false(card.includes('url('), 'no avatar URL, no background image');
  t.regex(card, /border-radius: 50%; background: #d5d9e0[^>]*>B<\/div>/);
  t.true(card.includes('| Data | Quantity |'));
  t.true(card.includes('| Tweets kept | 750 |'));
  t.notRegex(card, /^base_model:/m);
  t.false(card.includes('/home/someone'), 'a local base is named by its folder only');
  t.true(card.includes('`tiny-random`'));
  t.false(card.includes('Validation loss'));
  t.true(card.includes('- \\@bob\\: 61230 characters of tweets; results may be poor under 40000'));
  t.true(card.includes('Training was interrupted after 60 of 80 steps'));
});

// ---------------------------------------------------------------- report.html

test('report: one self-contained HTML document', (t) => {
  const html = renderReportHtml(cyborgSummary());
  t.true(html.startsWith('<!doctype html>\n<html lang="en">'));
  t.is(html.match(/<html/g)!.length, 1);
  t.is(html.match(/<\/html>/g)!.length, 1);
  t.regex(html, /<title>alice_dev-bob · tweetsmith training report<\/title>/);
  t.notRegex(html, /<script/i, 'no script at all, and no raw <script> from a sample');
  t.notRegex(html, /<link|<img|@import|\ssrc=/, 'nothing to fetch but the avatars');
  t.regex(html, /prefers-color-scheme: dark/);
  t.regex(html, /@media print/);
});

test('report: the loss chart has one point per metric row, the smoothed line too, and the validation points', (t) => {
  const summary = cyborgSummary();
  const html = renderReportHtml(summary);
  t.true(html.includes('<svg class="chart"'));
  const points = (cls: string) => {
    const m = new RegExp(`<polyline class="${cls}" points="([^"]*)"`).exec(html);
    return m ? m[1]!.trim().split(/\s+/) : [];
  };
  t.is(points('train').length, summary.metrics.length);
  t.is(points('smoothed').length, summary.metrics.length);
  t.is(points('lr').length, summary.metrics.length);
  // 5 validation steps plus the loss before fine-tuning at step 0
  const dots = /<g class="valid">([\s\S]*?)<\/g>/.exec(html)![1]!;
  t.is(dots.match(/<circle/g)!.length, 6);
  t.true(dots.includes('<title>before fine-tuning: validation loss 4.9876</title>'));
  // axes with labels and ticks
  t.true(html.includes('>optimizer step</text>'));
  t.true(html.includes('>loss (cross-entropy, nats)</text>'));
  t.true(html.includes('>learning rate</text>'));
  // every point inside the plot
  for (const p of points('train')) {
    const [x, y] = p.split(',').map(Number);
    t.true(x! >= 66 && x! <= 882 && y! >= 14 && y! <= 314, p);
  }
});

test('report: samples escaped, each with a URL-encoded tweet-intent link', (t) => {
  const summary = cyborgSummary();
  const html = renderReportHtml(summary);
  t.true(html.includes('&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt; &amp; a quiet weekend'));
  t.true(html.includes('<span class="prompt">My dream is</span> to ship a model | not a notebook 🚀'));
  const hrefs = [...html.matchAll(/<a class="tweet" href="([^"]*)"/g)].map((m) => unescapeHtml(m[1]!));
  t.is(hrefs.length, 3);
  for (const [i, sample] of summary.samples.entries()) {
    const full = sample.text.startsWith(sample.prompt) ? sample.text : sample.prompt + sample.text;
    t.is(hrefs[i], tweetIntentUrl(summary, sample));
    t.true(hrefs[i]!.startsWith('https://twitter.com/intent/tweet?text='));
    t.true(hrefs[i]!.includes(encodeURIComponent(full.trim())));
    t.notRegex(hrefs[i]!.slice('https://twitter.com/intent/tweet?text='.length), /[ <>|#&"]/);
  }
});

test('report: loads nothing from the network: no http reference but the tweet intents, and a remote avatar left out', (t) => {
  for (const summary of [cyborgSummary(), demoBotSummary()]) {
    const html = renderReportHtml(summary);
    const refs = [...html.matchAll(/https?:\/\/[^"'\s<>)]+/g)].map((m) => m[0]);
    for (const ref of refs) t.true(ref.startsWith('https://twitter.com/intent/tweet?text='), ref);
    t.false(html.includes('pbs.twimg.com'));
    t.false(html.includes('url('), 'no background picture');
  }
  t.true(renderReportHtml(cyborgSummary()).includes('<div class="avatar placeholder" aria-hidden="true">A</div>'), "Alice's initial instead of her remote picture");
});

test('report: data table, sizes, hyper-parameters, metrics and timing', (t) => {
  const html = renderReportHtml(cyborgSummary());
  t.true(html.includes('<th class="num" scope="col">Alice &lt;Dev&gt; | ML</th><th class="num" scope="col">@bob</th>'));
  t.true(html.includes('<tr><th scope="row">Tweets downloaded</th><td class="num">3250</td><td class="num">1020</td></tr>'));
  t.true(html.includes('<tr><th scope="row">Tweets kept</th><td class="num">2590</td><td class="num">750</td></tr>'));
  t.true(html.includes('<tr><th scope="row">Tokens</th><td class="num">412,377</td><td class="num">7,402</td></tr>'));
  t.true(html.includes('<tr><th scope="row">Blocks of 1,024 tokens</th><td class="num">402</td><td class="num">7</td></tr>'));
  t.true(html.includes('<tr><th scope="row">Learning rate</th><td class="num">1.372e-4</td></tr>'));
  t.true(html.includes('<span class="value">3.1234</span>'));
  t.true(html.includes('<span class="value">3.7012</span><span class="note">before: 4.9876</span>'));
  t.true(html.includes('<tr><th scope="row">Tokens per second, overall</th><td class="num">1,796</td></tr>'));
});

test('report: a validation measured only after training is drawn at the last step', (t) => {
  const summary = { ...demoBotSummary(), final: { trainLoss: 6.2, validLoss: 6.4, validPerplexity: Math.exp(6.4), validLossBefore: 10.8 } };
  const html = renderReportHtml(summary);
  const dots = /<g class="valid">([\s\S]*?)<\/g>/.exec(html)![1]!;
  t.is(dots.match(/<circle/g)!.length, 2);
  t.true(dots.includes('<title>step 60: validation loss 6.4000</title>'));
});

test('report: a demo bot with an unknown avatar gets a placeholder and the demo notice', (t) => {
  const html = renderReportHtml(demoBotSummary());
  t.true(html.includes('<div class="avatar placeholder" aria-hidden="true">B</div>'));
  t.false(html.includes('class="photo"'));
  t.false(html.includes('url('));
  t.true(html.includes('<strong>Demo model.</strong>'));
  t.true(html.includes('<strong>Interrupted.</strong> Training stopped after 60 of 80 steps.'));
  t.false(html.includes('class="valid"'));
});

// ---------------------------------------------------------------- run record

test('writeRunRecord: exactly the listed files, one JSON a line, hashes of the files', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tweetsmith-report-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const runDir = join(dir, 'model', 'run');
  const summary = cyborgSummary();
  const posts = '{"id":"1","text":"hello | world <b>"}\n{"id":"2","text":"ünïcödé 🤖"}\n';
  const train = '<|endoftext|>hello world again<|endoftext|>ünïcödé 🤖<|endoftext|>';
  const valid = '<|endoftext|>held out<|endoftext|>';
  const hashes = await writeRunRecord(runDir, summary, { postsJsonl: posts, trainText: train, validText: valid });

  t.deepEqual((await readdir(runDir)).sort(), ['config.json', 'metrics.jsonl', 'posts.jsonl', 'report.html', 'samples.json', 'train.txt', 'valid.txt']);
  t.deepEqual(Object.keys(hashes).sort(), ['posts.jsonl', 'train.txt', 'valid.txt']);
  for (const [file, hash] of Object.entries(hashes)) t.is(hash, sha(await readFile(join(runDir, file))), file);
  t.is(await readFile(join(runDir, 'posts.jsonl'), 'utf8'), posts);
  t.is(await readFile(join(runDir, 'train.txt'), 'utf8'), train);
  t.is(await readFile(join(runDir, 'valid.txt'), 'utf8'), valid);

  const lines = (await readFile(join(runDir, RUN_RECORD_FILES.metrics), 'utf8')).split('\n');
  t.is(lines.pop(), '', 'ends with a newline');
  t.is(lines.length, summary.metrics.length);
  t.deepEqual(
    lines.map((line) => JSON.parse(line)),
    summary.metrics,
  );

  const config = JSON.parse(await readFile(join(runDir, 'config.json'), 'utf8'));
  t.is(config.format, 'tweetsmith-run');
  t.false('metrics' in config);
  t.false('samples' in config);
  t.deepEqual(config.hashes, hashes);
  t.deepEqual(config.hyperparameters, summary.hyperparameters);
  t.deepEqual(config.dataset, summary.dataset);
  t.deepEqual(config.model, summary.model);
  t.is(config.baseModel, 'gpt2');
  t.is(config.tweetsmithVersion, '0.1.0');
  t.deepEqual(config.final, summary.final);
  t.is(config.startedAt, summary.startedAt);

  t.deepEqual(JSON.parse(await readFile(join(runDir, 'samples.json'), 'utf8')), summary.samples);
  const report = await readFile(join(runDir, 'report.html'), 'utf8');
  for (const [file, hash] of Object.entries(hashes)) t.true(report.includes(`<a href="${file}">${file}</a></th><td><code class="hash">${hash}</code>`), file);

  // the card lists them once they are passed on
  const card = renderModelCard({ ...summary, hashes });
  t.true(card.includes(`| [train\\.txt](run/train.txt) | \`${hashes['train.txt']}\` |`));
});

test('writeRunRecord: without a validation text there is no valid.txt, not even an old one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tweetsmith-report-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'valid.txt'), 'from an earlier run');
  const hashes = await writeRunRecord(dir, demoBotSummary(), { postsJsonl: '', trainText: 'x' });
  t.deepEqual((await readdir(dir)).sort(), ['config.json', 'metrics.jsonl', 'posts.jsonl', 'report.html', 'samples.json', 'train.txt']);
  t.deepEqual(hashes, { 'posts.jsonl': sha(''), 'train.txt': sha('x') });
});

// ---------------------------------------------------------------- pieces

test('escaping: Markdown, URLs and the HTML data table', (t) => {
  t.is(escapeMarkdown('a|b <i>*x*</i> [l](u) `c` \\ _'), 'a\\|b &lt;i&gt;\\*x\\*&lt;/i&gt; \\[l\\]\\(u\\) \\`c\\` \\\\ \\_');
  t.is(escapeMarkdown('one\ntwo'), 'one two');
  t.is(safeHttpUrl('javascript:alert(1)'), undefined);
  t.is(safeHttpUrl('data:image/png;base64,AAAA'), undefined);
  t.is(safeHttpUrl('not a url'), undefined);
  t.is(safeHttpUrl("https://x.test/a'b(c).png"), 'https://x.test/a%27b%28c%29.png');
  t.is(
    renderDataTableHtml([
      { handle: 'a', name: 'a | <b>', downloaded: 4, retweets: 0, short: 1, kept: 3 },
      { handle: 'c', downloaded: 2, retweets: 1, short: 0, kept: 1 },
    ]),
    '<table>\n<thead><tr><th scope="col">Data</th><th class="num" scope="col">a | &lt;b&gt;</th><th class="num" scope="col">@c</th></tr></thead>\n' +
      '<tbody><tr><th scope="row">Tweets downloaded</th><td class="num">4</td><td class="num">2</td></tr>' +
      '<tr><th scope="row">Retweets</th><td class="num">0</td><td class="num">1</td></tr>' +
      '<tr><th scope="row">Short tweets</th><td class="num">1</td><td class="num">0</td></tr>' +
      '<tr><th scope="row">Tweets kept</th><td class="num">3</td><td class="num">1</td></tr></tbody>\n</table>',
  );
});

test('chart pieces: round ticks, bias-corrected EMA', (t) => {
  t.deepEqual(niceAxis(3.02, 4.71, 5), { min: 3, max: 5, ticks: [3, 3.5, 4, 4.5, 5] });
  t.deepEqual(niceAxis(1, 50, 8, true).ticks, [0, 10, 20, 30, 40, 50]);
  t.deepEqual(niceAxis(0, 1.372e-4, 3).ticks, [0, 5e-5, 0.0001, 0.00015]);
  t.deepEqual(niceAxis(2, 2, 5, true).ticks.length > 1, true);
  t.deepEqual(ema([4, 4, 4], 0.9), [4, 4, 4]);
  const smoothed = ema([10, 0], 0.5);
  t.is(smoothed[0], 10);
  t.true(Math.abs(smoothed[1]! - 10 / 3) < 1e-12);
});
