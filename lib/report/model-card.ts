// The model card: the README.md of a model folder, as the Hugging Face hub
// shows it. It follows the original tool's cards section by section (the seed
// card in shared/mission), keeps what still applies, and replaces what pointed
// at services we do not use (W&B runs, a Colab demo, a hosted image) with what
// the run itself knows: the counts, the hyper-parameters, the losses, samples,
// and the run record in run/ beside the card.
//
// Every string that came from a post, a profile, a file or the command line goes
// through escape-markdown.ts (or escape-html.ts in the header's HTML block).
import { renderDataTable } from '../data/index.js';
import { SAMPLING_DEFAULTS } from '../defaults.js';
import { renderCardHeader } from './card-header.js';
import { codeSpan, escapeMarkdown, escapeMarkdownLines } from './escape-markdown.js';
import { formatDate, formatDuration, formatInt, formatLoss, formatParameters, formatPercent, formatPerplexity } from './format.js';
import {
  baseModelLabel,
  displayName,
  hyperparameterRows,
  modelShape,
  publishedBase,
  runFacts,
  sampleText,
  type RunFacts,
} from './run-facts.js';
import { RUN_RECORD_DIR } from './run-record-files.js';
import type { RunSummary } from '../train/run-summary.js';

/** The prompt of the hub's inference widget, and of the original tool. */
export const WIDGET_PROMPT = SAMPLING_DEFAULTS.prompt;

const HUGGINGTWEETS_URL = 'https://github.com/borisdayma/huggingtweets';
const HUB = 'https://huggingface.co';

// Below this, say that the model is small: its text is visibly weaker than GPT-2 small's (124M).
const SMALL_MODEL_PARAMETERS = 50e6;

export function renderModelCard(summary: RunSummary): string {
  const facts = runFacts(summary);
  return [
    frontMatter(summary),
    renderCardHeader(summary),
    intro(summary),
    howItWorks(summary, facts),
    trainingData(summary),
    trainingProcedure(summary, facts),
    howToUse(summary),
    sampleGenerations(summary),
    limitations(summary),
    about(summary),
  ].join('\n');
}

// ---------------------------------------------------------------- front matter

function frontMatter(summary: RunSummary): string {
  const base = summary.baseIsRandom ? undefined : publishedBase(summary.baseModel);
  // No thumbnail: the original's was a picture it hosted; we have none to point at.
  return [
    '---',
    'language: en',
    'tags:',
    '- huggingtweets',
    '- tweetsmith',
    '- text-generation',
    '- gpt2',
    ...(summary.hyperparameters.lora ? ['- lora', '- peft'] : []),
    'widget:',
    `- text: ${JSON.stringify(WIDGET_PROMPT)}`,
    'pipeline_tag: text-generation',
    `library_name: ${summary.hyperparameters.lora ? 'peft' : 'transformers'}`,
    ...(base ? [`base_model: ${base}`] : []),
    '---',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------- intro

function intro(summary: RunSummary): string {
  const lines = [
    `I was made with **tweetsmith** ${summary.tweetsmithVersion}, a Node.js package that fine-tunes GPT-2 on someone's posts on your own machine. ` +
      `It re-creates [huggingtweets](${HUGGINGTWEETS_URL}), the original idea.`,
    '',
    'Create your own bot based on your favorite user: `npx tweetsmith demo` runs the whole pipeline offline in a few minutes, ' +
      'and `npx tweetsmith train @user --base gpt2 --out my-bot` trains on an account (`npx tweetsmith --help` lists every source and option).',
    '',
  ];
  const lora = summary.hyperparameters.lora;
  if (lora) {
    lines.push(
      `> **LoRA adapter.** This folder holds a LoRA adapter in PEFT's layout (rank ${lora.rank}, alpha ${lora.alpha}, on ${lora.targets.join(', ')}), not a whole model: ` +
        `it is applied to its base, ${escapeMarkdown(baseModelLabel(summary.baseModel))}, which \`adapter_config.json\` names. tweetsmith and PEFT load the two together; ` +
        '`npx tweetsmith merge <this folder> --out merged` writes a whole model with the adapter folded into its weights.',
      '',
    );
  }
  if (summary.baseIsRandom) {
    lines.push(
      '> **Demo model.** It was trained from a random initialisation, not from a pre-trained GPT-2, so its samples are only lightly shaped by the posts (see *Training procedure*).',
      '',
    );
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------- how does it work?

function howItWorks(summary: RunSummary, facts: RunFacts): string {
  const ds = summary.dataset;
  const downloaded = ds.users.reduce((sum, user) => sum + user.downloaded, 0);
  const kept = ds.users.reduce((sum, user) => sum + user.kept, 0);
  const balance = ds.kind === 'cyborg' ? 'balanced per person, ' : '';
  const base = summary.baseIsRandom ? 'GPT-2 from random weights' : 'GPT-2';
  // Only our own words and numbers in the diagram: it sits in a code block, where nothing could be escaped.
  const diagram = [
    '```text',
    ` download    the posts of ${ds.users.length === 1 ? 'one person' : `${ds.users.length} people`}`,
    `    │        ${formatInt(downloaded)} posts`,
    '    ▼',
    ' clean       retweets, links and short posts removed',
    `    │        ${formatInt(kept)} posts kept`,
    '    ▼',
    ` dataset     ${balance}${ds.epochs} shuffled epoch${ds.epochs === 1 ? '' : 's'}, joined with <|endoftext|>`,
    `    │        ${formatInt(ds.trainTokens)} tokens in ${formatInt(ds.trainBlocks)} blocks of ${formatInt(ds.blockSize)}`,
    '    ▼',
    ` fine-tune   ${base} (${formatParameters(summary.model.parameters)} parameters), AdamW, ${summary.hyperparameters.schedule} learning rate`,
    `    │        ${formatInt(facts.stepsDone)} steps, final loss ${formatLoss(summary.final.trainLoss)}`,
    '    ▼',
    ` generate    a prompt ("${WIDGET_PROMPT}") → new posts, sampled token by token`,
    '```',
  ];
  return [
    '## How does it work?',
    '',
    'The model was made by the following pipeline, every step on one machine.',
    '',
    ...diagram,
    '',
    'Each step is described below, and what it produced is kept in the run record.',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------- training data

/** "@alice (Alice)", escaped for Markdown. */
function person(user: RunSummary['dataset']['users'][number]): string {
  const handle = `@${escapeMarkdown(user.handle)}`;
  const name = user.name?.trim();
  return name ? `${handle} (${escapeMarkdown(name)})` : handle;
}

/** "a", "a and b", "a, b and c". */
function listOf(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function handles(summary: RunSummary): string {
  return listOf(summary.dataset.users.map((user) => `@${escapeMarkdown(user.handle)}`));
}

function trainingData(summary: RunSummary): string {
  const ds = summary.dataset;
  const table = renderDataTable(
    ds.users.map((user) => ({
      handle: user.handle,
      ...(user.name?.trim() ? { name: displayName(user) } : {}),
      downloaded: user.downloaded,
      retweets: user.retweets,
      short: user.short,
      kept: user.kept,
    })),
    escapeMarkdown,
  );
  const validTweets = ds.users.reduce((sum, user) => sum + user.validTweets, 0);
  const textParts = [
    `The kept posts make the training text: ${ds.kind === 'cyborg' ? "each person's posts repeated until they weigh as much as the longest person's, then " : ''}` +
      `${ds.epochs} shuffled cop${ds.epochs === 1 ? 'y' : 'ies'} (epochs, seed ${ds.seed}), joined with \`<|endoftext|>\`: ` +
      `${formatInt(ds.trainCharacters)} characters, ${formatInt(ds.trainTokens)} tokens, ${formatInt(ds.trainBlocks)} blocks of ${formatInt(ds.blockSize)} tokens.`,
  ];
  if (ds.validSplit > 0) {
    textParts.push(
      `${formatPercent(ds.validSplit)} of each person's kept posts (${formatInt(validTweets)} in all) were held out for validation: ` +
        `${formatInt(ds.validCharacters)} characters, ${formatInt(ds.validTokens)} tokens, ${formatInt(ds.validBlocks)} blocks.`,
    );
  }
  const lines = [
    '## Training data',
    '',
    `The model was trained on the posts of ${listOf(ds.users.map(person))}.`,
    '',
    table,
    'Retweets (reposts, boosts) are counted and left out. A post is *short* when, once its links are removed, ' +
      'fewer than 3 of its words are free of links, @mentions and #hashtags; short posts are left out too. ' +
      'Tweets downloaded = retweets + short tweets + tweets kept.',
    '',
    textParts.join(' '),
    '',
  ];
  if (ds.warnings.length > 0) {
    lines.push('Notes from building the dataset:', '', ...ds.warnings.map((warning) => `- ${escapeMarkdown(warning)}`), '');
  }
  lines.push(...runRecord(summary));
  return lines.join('\n');
}

function runRecord(summary: RunSummary): string[] {
  const lines = [
    `The raw posts and the training text are kept, with their sha256, in the run record: the \`${RUN_RECORD_DIR}/\` folder beside this card. ` +
      `[${RUN_RECORD_DIR}/report.html](${RUN_RECORD_DIR}/report.html) shows the loss curve, the numbers and the samples of this run.`,
    '',
  ];
  const files = Object.entries(summary.hashes);
  if (files.length > 0) {
    lines.push(
      '| File | sha256 |',
      '| --- | --- |',
      ...files.map(([file, hash]) => `| [${escapeMarkdown(file)}](${RUN_RECORD_DIR}/${linkPath(file)}) | \`${hash.replace(/[^0-9a-fA-F]/g, '')}\` |`),
      '',
    );
  }
  return lines;
}

/** A file name as a link destination: percent-encoded, `(`, `)` and the rest of what encodeURIComponent leaves included. */
function linkPath(file: string): string {
  return encodeURIComponent(file).replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

// ---------------------------------------------------------------- training procedure

function baseStatement(summary: RunSummary): string {
  const who = handles(summary);
  const label = codeSpan(baseModelLabel(summary.baseModel));
  if (summary.baseIsRandom) {
    return (
      `**This model was trained from a random initialisation, for a demo**: it started from random weights (base: ${label}), not from a pre-trained GPT-2, ` +
      `so all it knows of language is what ${formatInt(summary.dataset.trainTokens)} tokens of posts could teach it. ` +
      'Real results need a pre-trained base such as `gpt2` (`--base gpt2`).'
    );
  }
  const published = publishedBase(summary.baseModel);
  if (published) {
    return `The model is based on a pre-trained [GPT-2](${HUB}/${published}) (${label}), which is fine-tuned on ${who}'s posts.`;
  }
  return `The model starts from ${label}, a GPT-2 model, which is fine-tuned on ${who}'s posts.`;
}

function trainingProcedure(summary: RunSummary, facts: RunFacts): string {
  const final = summary.final;
  const metrics: Array<[string, string]> = [['Training loss (final)', formatLoss(final.trainLoss)]];
  if (final.validLoss !== undefined) metrics.push(['Validation loss', formatLoss(final.validLoss)]);
  if (final.validPerplexity !== undefined) metrics.push(['Validation perplexity', formatPerplexity(final.validPerplexity)]);
  if (final.validLossBefore !== undefined) {
    metrics.push([
      'Validation loss before fine-tuning',
      `${formatLoss(final.validLossBefore)} (perplexity ${formatPerplexity(Math.exp(final.validLossBefore))})`,
    ]);
  }
  metrics.push(['Training time', `${formatDuration(summary.trainSeconds)} (started ${formatDate(summary.startedAt)})`]);
  if (facts.tokensPerSecond !== undefined) metrics.push(['Throughput', `${formatInt(facts.tokensPerSecond)} tokens/s`]);

  const lines = [
    '## Training procedure',
    '',
    baseStatement(summary),
    '',
    `Model: GPT-2 with ${modelShape(summary.model)}: ${formatParameters(summary.model.parameters)} parameters (${formatInt(summary.model.parameters)}).`,
    '',
  ];
  if (facts.interrupted) {
    lines.push(`Training was interrupted after ${formatInt(facts.stepsDone)} of ${formatInt(summary.hyperparameters.steps)} steps; the model is the one of that step.`, '');
  }
  lines.push(
    'One pass over the blocks of the training text (the epochs are inside the text), the loss being the mean cross-entropy of each next token:',
    '',
    '| Hyper-parameter | Value |',
    '| --- | --- |',
    // Our own numbers and words as they are (readable in the raw card); a device name from a driver escaped.
    ...hyperparameterRows(summary, facts).map(({ label, value, fromOutside }) => `| ${label} | ${fromOutside ? escapeMarkdown(value) : value} |`),
    '',
    '| Result | Value |',
    '| --- | --- |',
    ...metrics.map(([label, value]) => `| ${label} | ${value} |`),
    '',
    `The loss and learning-rate curves are in [the run report](${RUN_RECORD_DIR}/report.html); every logged step is in [metrics.jsonl](${RUN_RECORD_DIR}/metrics.jsonl), ` +
      `and every setting in [config.json](${RUN_RECORD_DIR}/config.json).`,
    '',
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------- how to use

/** The model's folder name in the examples: only characters a shell and a code block take as they are. */
function folderName(summary: RunSummary): string {
  return `./${summary.modelName.replace(/[^A-Za-z0-9._@-]+/g, '-') || 'model'}`;
}

function howToUse(summary: RunSummary): string {
  const dir = folderName(summary);
  return [
    '## How to use',
    '',
    `In these examples \`${dir}\` is this model's folder (this repository, cloned or downloaded).`,
    '',
    '### From the command line, with tweetsmith',
    '',
    '```bash',
    `npx tweetsmith generate --model ${dir} "${WIDGET_PROMPT}"`,
    '```',
    '',
    '`-n`, `--max-length`, `--temperature`, `--top-p` and `--seed` change the sampling; `--json` prints `{"prompt": …, "samples": […]}`.',
    '',
    '### From Node.js, with tweetsmith',
    '',
    '```js',
    "import { GPT2, Tokenizer } from 'tweetsmith';",
    '',
    `const dir = '${dir}';`,
    'const model = await GPT2.load(dir);',
    'const tokenizer = await Tokenizer.fromDir(dir);',
    '',
    `const prompt = '${WIDGET_PROMPT}';`,
    '// every post began with <|endoftext|> in training, so the prompt does too',
    "const promptTokens = tokenizer.encode('<|endoftext|>' + prompt);",
    'const n = 5;',
    'const continuations = Array.from({ length: n }, () => []);',
    `for await (const { sequence, token } of model.generate(promptTokens, { n, maxLength: ${SAMPLING_DEFAULTS.maxLength}, topP: ${SAMPLING_DEFAULTS.topP}, seed: 1 })) {`,
    '  continuations[sequence].push(token);',
    '}',
    'for (const tokens of continuations) {',
    '  console.log(prompt + tokenizer.decode(tokens, { skipSpecialTokens: true }));',
    '}',
    'await model.dispose();',
    '```',
    '',
    ...(summary.hyperparameters.lora
      ? [
          '### From Python, with PEFT',
          '',
          'The adapter loads with its base (which `adapter_config.json` names):',
          '',
          '```python',
          'from peft import AutoPeftModelForCausalLM',
          'from transformers import pipeline',
          `model = AutoPeftModelForCausalLM.from_pretrained('${dir}')`,
          `generator = pipeline('text-generation', model=model.merge_and_unload(), tokenizer='${dir}')`,
          `generator("${WIDGET_PROMPT}", num_return_sequences=5)`,
          '```',
          '',
        ]
      : [
          '### From Python, with transformers',
          '',
          'You can use this model directly with a pipeline for text generation:',
          '',
          '```python',
          'from transformers import pipeline',
          'generator = pipeline(\'text-generation\',',
          `                     model='${dir}')`,
          `generator("${WIDGET_PROMPT}", num_return_sequences=5)`,
          '```',
          '',
        ]),
    "`model=` takes this folder, or the model's hub id once it is uploaded (`your-name/" + dir.slice(2) + '`).',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------- samples

function sampleGenerations(summary: RunSummary): string {
  if (summary.samples.length === 0) return '';
  const items = summary.samples.map((sample, i) => {
    const text = sampleText(sample).trim();
    const prompt = sample.prompt.trim();
    // <strong> rather than **: a prompt ending in punctuation would not close a ** span.
    const shown =
      prompt && text.startsWith(prompt)
        ? `<strong>${escapeMarkdown(prompt)}</strong>${escapeMarkdownLines(text.slice(prompt.length))}`
        : escapeMarkdownLines(text);
    return `${i + 1}. ${shown}`;
  });
  return ['## Sample generations', '', 'Sampled from the fine-tuned model at the end of training (the prompt in bold):', '', ...items, ''].join('\n');
}

// ---------------------------------------------------------------- limitations and bias

function limitations(summary: RunSummary): string {
  const who = handles(summary);
  const lines = [
    '## Limitations and bias',
    '',
    `The model suffers from [the same limitations and bias as GPT-2](${HUB}/openai-community/gpt2#limitations-and-bias).`,
    '',
    `In addition, the data present in ${who}'s posts further affects the text generated by the model: it takes up their topics, opinions and turns of phrase, ` +
      'and it can repeat parts of posts word for word, including anything personal they contained.',
    '',
    `What the model writes was not written by ${who}, and must not be passed off as theirs.`,
    '',
  ];
  if (summary.baseIsRandom) {
    lines.push(
      `This demo model is small (${formatParameters(summary.model.parameters)} parameters) and learned from random weights on a few posts only: ` +
        'its samples are only lightly shaped by the posts, and often not grammatical.',
      '',
    );
  } else if (summary.model.parameters < SMALL_MODEL_PARAMETERS) {
    lines.push(`This is a small model (${formatParameters(summary.model.parameters)} parameters): its text is less fluent than GPT-2's.`, '');
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------- about

function about(summary: RunSummary): string {
  return [
    '## About',
    '',
    `*Built with tweetsmith ${summary.tweetsmithVersion}*, trained ${formatDate(summary.finishedAt)} ` +
      `on ${escapeMarkdown(summary.hyperparameters.device)} in ${formatDuration(summary.trainSeconds)}.`,
    '',
    `tweetsmith re-creates [huggingtweets](${HUGGINGTWEETS_URL}) by Boris Dayma as a Node.js package with a native GPT-2 engine, ` +
      'so that a bot can be made, and run, on one\'s own machine.',
    '',
  ].join('\n');
}
