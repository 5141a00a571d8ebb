// Names, handles, samples, prompts, warnings and device names from outside
// cannot inject Markdown or HTML into the model card, nor HTML into report.html.
//
// Held to independent readers: the card is rendered by a real Markdown renderer
// (marked, GFM, as the hub renders a card), and that HTML and report.html are
// parsed by a real HTML parser (parse5, the HTML standard's algorithm). The
// property: the elements and attributes of the page are exactly those of the same
// run with a harmless word in every field, so no element, attribute, link or
// comment came from the injected text, and the injected text is shown literally.
import test from 'ava';
import { marked } from 'marked';
import { parse, parseFragment, type DefaultTreeAdapterMap } from 'parse5';
import type { DatasetStats } from '../lib/data/index.js';
import { codeSpan, escapeMarkdown, renderModelCard, renderReportHtml, safeDataImageUrl } from '../lib/report/index.js';
import { REPORT_CSP } from '../lib/report/report-html.js';
import type { RunSummary } from '../lib/train/run-summary.js';

type Node = DefaultTreeAdapterMap['node'];
type Element = DefaultTreeAdapterMap['element'];

const AVATAR = 'https://pbs.twimg.com/profile_images/1/a_400x400.jpg';
const HARMLESS = 'qqharmlessqq';

/** Text that tries to break out of Markdown, HTML, attributes, script and style contexts and comments. */
const ATTACKS = [
  '<script>alert(1)</script>',
  '</script><script>alert(2)</script>',
  '<!-- a comment',
  '--> <!--',
  '<img src=x onerror=alert(3)>',
  '"><svg onload=alert(4)>',
  "'><b onmouseover=alert(5)>x</b>",
  '</style><style>*{display:none}</style>',
  '<![CDATA[ x ]]>',
  '[click](javascript:alert(6))',
  '[ref link][r]\n\n[r]: https://evil.test/',
  '![pixel](https://evil.test/p.png)',
  '<https://evil.test/auto>',
  'see https://evil.test/bare and www.evil.test and mail@evil.test',
  '**bold** __strong__ *em* _em_ ~~gone~~ `code` ```fence```',
  '# heading',
  '- item',
  '+ item',
  '1. item',
  '2) item',
  '> quote',
  '---',
  '***',
  '    indented code',
  '\tindented by a tab',
  '   - three spaces and a dash',
  '| a | b |\n| --- | --- |\n| c | d |',
  '&lt;b&gt;entity&lt;/b&gt; &amp; &#60;i&#62;',
  'line one\n\n<div onclick=alert(7)>block</div>\n\nline two',
  'one\n# heading after a line break',
  'one\r\n\r\n![x](https://evil.test/crlf.png)',
  'text\u2028# after a line separator',
  '$x^2$ and $$y$$',
  'footnote[^1]\n\n[^1]: https://evil.test/',
  ':smile: @someone #tag',
  '\\<b>backslash\\</b> \\',
  '`` ` `` and ` `` `',
  '<details open><summary>x</summary></details>',
];

function dataset(word: string): DatasetStats {
  const user = (handle: string, name?: string) => ({
    handle,
    ...(name !== undefined ? { name } : {}),
    avatarUrl: AVATAR,
    downloaded: 100,
    retweets: 10,
    short: 10,
    kept: 80,
    characters: 9000,
    trainTweets: 72,
    validTweets: 8,
    upsampledTweets: 72,
  });
  return {
    kind: 'cyborg',
    name: `${word}-bob`,
    users: [user(word, word), user('bob', `Bob ${word}`)],
    seed: 1,
    epochs: 4,
    blockSize: 64,
    validSplit: 0.1,
    allowNewlines: false,
    trainCharacters: 36_000,
    trainTokens: 9000,
    trainBlocks: 140,
    validCharacters: 900,
    validTokens: 220,
    validBlocks: 3,
    warnings: [`@${word}: only 9000 characters`, word],
  };
}

/** A run in which every string that can come from outside is `word`. */
function summaryWith(word: string): RunSummary {
  return {
    modelName: `${word}-bob`,
    dataset: dataset(word),
    baseModel: word,
    baseIsRandom: false,
    model: { nLayer: 2, nHead: 2, nEmbd: 64, nPositions: 64, vocabSize: 50257, parameters: 6_558_592 },
    hyperparameters: {
      epochs: 4,
      learningRate: 1.372e-4,
      schedule: 'cosine',
      warmup: 0,
      batchSize: 1,
      gradAccum: 1,
      blockSize: 64,
      steps: 3,
      seed: 1,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0,
      maxGradNorm: 1,
      threads: 2,
      device: word,
    },
    metrics: [1, 2, 3].map((step) => ({ step, loss: 5 - step, lr: 1e-4, tokensPerSecond: 100, elapsed: step, ...(step === 3 ? { validLoss: 3.5 } : {}) })),
    final: { trainLoss: 2, validLoss: 3.5, validPerplexity: Math.exp(3.5), validLossBefore: 5 },
    samples: [
      { prompt: word, text: `${word} and more` },
      { prompt: 'My dream is', text: `My dream is ${word}` },
      { prompt: 'My dream is', text: word },
    ],
    hashes: { 'train.txt': 'ab'.repeat(32) },
    startedAt: '2024-05-01T14:03:00.000Z',
    finishedAt: '2024-05-01T14:03:29.000Z',
    trainSeconds: 29,
    tweetsmithVersion: '0.1.0',
  };
}

/** The card as the hub shows it: the front matter taken off, the rest rendered as GitHub-flavoured Markdown. */
function renderCardHtml(card: string): string {
  const body = card.replace(/^---\n[\s\S]*?\n---\n/, '');
  return marked.parse(body, { async: false, gfm: true }) as string;
}

function isElement(node: Node): node is Element {
  return 'tagName' in node;
}

/**
 * Every element (but <br>, which a line break in a sample makes) and comment, in
 * document order, with its attributes; a link or URL attribute by its target
 * before any query (a tweet link's query is the sample's text, encoded).
 */
function structure(html: string): string[] {
  const out: string[] = [];
  const walk = (node: Node): void => {
    if (node.nodeName === '#comment') out.push('#comment');
    if (isElement(node) && node.tagName !== 'br') {
      const attrs = node.attrs.map(({ name, value }) => `${name}=${name === 'href' || name === 'src' ? value.split('?')[0] : value}`).sort();
      out.push(`${node.tagName}[${attrs.join(' ')}]`);
    }
    const children = 'childNodes' in node ? node.childNodes : [];
    for (const child of children) walk(child as Node);
    if (isElement(node) && node.tagName === 'template') walk((node as DefaultTreeAdapterMap['template']).content as unknown as Node);
  };
  walk(parse(html) as unknown as Node);
  return out;
}

/** The text a reader sees, without any whitespace (line breaks become <br> or spaces on the way). */
function visibleText(html: string): string {
  let text = '';
  const walk = (node: Node): void => {
    if (node.nodeName === '#text') text += (node as DefaultTreeAdapterMap['textNode']).value;
    if (isElement(node) && (node.tagName === 'style' || node.tagName === 'script')) return;
    for (const child of 'childNodes' in node ? node.childNodes : []) walk(child as Node);
  };
  walk(parse(html) as unknown as Node);
  return text.replace(/\s+/g, '');
}

const squeeze = (text: string) => text.replace(/\s+/g, '');

const harmlessCard = structure(renderCardHtml(renderModelCard(summaryWith(HARMLESS))));
const harmlessReport = structure(renderReportHtml(summaryWith(HARMLESS)));

test('the harmless run has what the comparison relies on', (t) => {
  t.true(harmlessCard.includes('div[style=width: 92px; height: 92px; border-radius: 50%; background-size: cover; background-image: url(\'' + AVATAR + '\')]'));
  t.true(harmlessCard.some((e) => e.startsWith('table[')));
  t.true(harmlessCard.some((e) => e.startsWith('ol[')));
  t.true(harmlessCard.some((e) => e.startsWith('ul[')), 'the warnings list');
  t.true(harmlessReport.some((e) => e.startsWith('a[class=tweet href=https://twitter.com/intent/tweet')));
  t.false(harmlessCard.includes('#comment'));
});

for (const attack of ATTACKS) {
  test(`card (rendered by marked): no element, attribute or link from ${JSON.stringify(attack)}`, (t) => {
    const html = renderCardHtml(renderModelCard(summaryWith(attack)));
    t.deepEqual(structure(html), harmlessCard);
    // Shown as it was written: the literal text is on the page (line breaks aside).
    t.true(visibleText(html).includes(squeeze(attack)));
  });

  test(`report.html (parsed by parse5): no element, attribute or link from ${JSON.stringify(attack)}`, (t) => {
    const html = renderReportHtml(summaryWith(attack));
    t.deepEqual(structure(html), harmlessReport);
    t.true(visibleText(html).includes(squeeze(attack)));
  });
}

test('card and report: every attack at once, in every field', (t) => {
  const all = ATTACKS.join(' ');
  t.deepEqual(structure(renderCardHtml(renderModelCard(summaryWith(all)))), harmlessCard);
  t.deepEqual(structure(renderReportHtml(summaryWith(all))), harmlessReport);
});

test('report.html: a Content-Security-Policy that loads nothing from the network', (t) => {
  const html = renderReportHtml(summaryWith(HARMLESS));
  const meta = structure(html).filter((e) => e.startsWith('meta['));
  t.true(meta.includes(`meta[content=${REPORT_CSP} http-equiv=Content-Security-Policy]`));
  t.regex(REPORT_CSP, /default-src 'none'/);
  t.regex(REPORT_CSP, /img-src data:(;|$)/);
  t.notRegex(REPORT_CSP, /https?:|\*/);
  // before anything else in <head> but the charset
  t.regex(html, /<head>\n<meta charset="utf-8">\n<meta http-equiv="Content-Security-Policy"/);
});

test('avatars: the report shows only an inline data: image, the card only an http(s) one; anything else gives the initial', (t) => {
  const png = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
  const hostile = [
    'javascript:alert(1)',
    "https://x.test/a.png'); background-image: url('https://evil.test/",
    'https://x.test/a.png" onload="alert(1)',
    'data:image/svg+xml,<svg onload=alert(1)>',
    'data:image/png;base64,AAAA"><script>alert(1)</script>',
    'data:text/html;base64,PHNjcmlwdD4=',
    `data:image/png;base64,${'A'.repeat(300_000)}`,
  ];
  const withAvatar = (avatarUrl: string): RunSummary => {
    const summary = summaryWith(HARMLESS);
    return { ...summary, dataset: { ...summary.dataset, users: summary.dataset.users.map((u) => ({ ...u, avatarUrl })) } };
  };
  for (const url of hostile) {
    const report = renderReportHtml(withAvatar(url));
    t.false(report.includes('class="photo"'), url);
    t.false(report.includes('evil.test'), url);
    // The card keeps an http(s) picture; its URL cannot leave the CSS url('…') nor the attribute.
    const card = structure(renderCardHtml(renderModelCard(withAvatar(url))));
    const urls = card.flatMap((element) => [...element.matchAll(/url\('([^']*)'\)/g)].map((m) => m[1]!));
    for (const found of urls) t.regex(found, /^https?:\/\/x\.test\/[^'"()\s\\]*$/, url);
    const withoutUrls = (elements: string[]) => elements.map((e) => e.replace(/url\('[^']*'\)/g, "url('U')").replace(/; background-size: cover; background-image: url\('U'\)|; background: #d5d9e0.*(?=\])/g, '; PICTURE'));
    t.deepEqual(withoutUrls(card), withoutUrls(harmlessCard), url);
  }
  const report = renderReportHtml(withAvatar(png));
  t.true(report.includes(`<span class="photo" style="background-image: url('${png}')"></span>`));
  t.is(safeDataImageUrl(png), png);
  // a remote picture is never in the report, even a well-formed https one
  t.false(renderReportHtml(withAvatar(AVATAR)).includes('twimg'));
});

test('escapeMarkdown and codeSpan, read back by marked: the literal text, on one line', (t) => {
  const inline = (markdown: string) => marked.parseInline(markdown, { async: false, gfm: true }) as string;
  const text = (html: string) => {
    let out = '';
    const walk = (node: Node): void => {
      if (node.nodeName === '#text') out += (node as DefaultTreeAdapterMap['textNode']).value;
      for (const child of 'childNodes' in node ? node.childNodes : []) walk(child as Node);
    };
    // a fragment: a whole document would drop leading blanks before <body>
    walk(parseFragment(html) as unknown as Node);
    return out;
  };
  for (const attack of ATTACKS) {
    const oneLine = attack.replace(/\r\n?|[\n\u2028\u2029]/g, ' ');
    const escaped = escapeMarkdown(attack);
    t.false(escaped.includes('\n'));
    t.is(text(inline(escaped)), oneLine, attack);
    // inside a table cell too
    const table = renderCardHtml(`| h |\n| --- |\n| ${escaped} |\n`);
    t.is(structure(table).filter((e) => e === 'td[]').length, 1, attack);
    const span = codeSpan(attack);
    t.is(text(inline(span)), oneLine, attack);
  }
});
