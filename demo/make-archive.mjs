#!/usr/bin/env node
// Writes demo/archive/, the small X archive (unpacked folder form) behind
// `tweetsmith demo`, from the posts in demo/posts.txt. No dependencies.
//
//   node demo/make-archive.mjs                          # demo/archive/, the 421 posts
//   node demo/make-archive.mjs --posts 2590 --out DIR   # a bigger archive elsewhere
//
// --posts N takes the first N posts of posts.txt, and past its 421 makes more
// by recombining its sentences: each new post copies the kind of a random
// original (a retweet, a reply to the same people, or a plain post) and is 1–3
// sentences drawn from different originals, about as long as an original, never
// equal to another post. That keeps the account's voice, entities and length
// mix, which is what the timing of a whole training run (scripts/bot-timing.mjs)
// depends on; the sentences repeat across posts, so a model's validation loss on
// such an archive only compares runs with each other. --out DIR writes DIR/data/
// (DIR must be new or empty); without it the script rewrites demo/archive/.
//
// posts.txt: one post a line, oldest first, `\n` for a line break inside a
// post, `\\` for a backslash. Write plain text there (`&`, `<`, `>`): the script
// escapes them as X does (`&amp;`, `&lt;`, `&gt;`). A URL written as
// https://example.org/… becomes a t.co link with the example.org address in
// its entity. A line `RT @user: …` is a retweet and is cut at 140 characters
// with `…` as X does.
//
// Everything random (dates, ids, counts, t.co codes, sources) comes from one
// fixed seed, so the output is the same byte for byte on every run. At the end
// the script counts the posts as the pipeline does (pipeline.md §2–4) and
// prints the four counts and the kept characters.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
/** The most posts --posts makes: far more than any timing needs, far fewer than the sentences allow. */
const MAX_POSTS = 100_000;

function fail(message) {
  process.stderr.write(`make-archive: ${message}\n`);
  process.exit(1);
}
let cli;
try {
  cli = parseArgs({ options: { posts: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }).values;
} catch (err) {
  fail(`${err.message}; usage: node demo/make-archive.mjs [--posts N] [--out DIR]`);
}
if (cli.help) {
  process.stdout.write('usage: node demo/make-archive.mjs [--posts N] [--out DIR]\n  --posts N  posts in the archive (default: the 421 of demo/posts.txt)\n  --out DIR  a new or empty folder for the archive (default: demo/archive, rewritten)\n');
  process.exit(0);
}
const postCount = cli.posts === undefined ? undefined : Number(cli.posts);
if (postCount !== undefined && !(Number.isInteger(postCount) && postCount >= 1 && postCount <= MAX_POSTS)) {
  fail(`--posts must be a whole number from 1 to ${MAX_POSTS}, not "${cli.posts}"`);
}
const archiveDir = cli.out === undefined ? join(here, 'archive') : resolve(cli.out);
if (cli.out !== undefined && existsSync(archiveDir)) {
  // never write over someone's files: only demo/archive, this script's own output, is rewritten in place
  if (!statSync(archiveDir).isDirectory()) fail(`--out ${cli.out} is a file; name a new or empty folder`);
  if (readdirSync(archiveDir).length > 0) fail(`--out ${cli.out} is not empty; name a new or empty folder`);
}
const dataDir = join(archiveDir, 'data');

const SEED = 0x6d617267; // "marg"
const ACCOUNT = {
  username: 'fenwick_lighthouse',
  accountId: '1000000000000000001',
  displayName: 'Marguerite Fenwick',
  createdAt: '2014-03-02T09:12:44.000Z',
};
/** Everyone a post can mention (all fictional). */
const PEOPLE = {
  fenwick_lighthouse: { name: ACCOUNT.displayName, id: ACCOUNT.accountId },
  harbourmaster_ned: { name: 'Ned at the Harbour Office', id: '1000000000000000002' },
  captain_oyelaran: { name: 'Capt. Oyelaran', id: '1000000000000000003' },
};
const FIRST_DAY = Date.UTC(2019, 0, 1);
const LAST_DAY = Date.UTC(2024, 11, 31);
/** Posts in tweets.js; the older rest go to tweets-part1.js. */
const PART0_SIZE = 220;
const SOURCES = [
  [0.6, '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>'],
  [0.3, '<a href="http://twitter.com/download/android" rel="nofollow">Twitter for Android</a>'],
  [0.1, '<a href="https://about.twitter.com/products/tweetdeck" rel="nofollow">TweetDeck</a>'],
];
const TWITTER_EPOCH = 1288834974657n;

// mulberry32: small, deterministic, good enough for made-up dates and counts.
function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = mulberry32(SEED);
const randomInt = (min, max) => min + Math.floor(random() * (max - min + 1));
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const randomCode = (length) => Array.from({ length }, () => ALNUM[randomInt(0, ALNUM.length - 1)]).join('');

// --- the posts -------------------------------------------------------------
const lines = readFileSync(join(here, 'posts.txt'), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '');
const originals = lines.map((line) => line.replace(/\\(n|\\)/g, (_, c) => (c === 'n' ? '\n' : '\\')));
const texts = postCount === undefined || postCount <= originals.length ? originals.slice(0, postCount) : withComposedPosts(originals, postCount);

/**
 * The originals, oldest first, and composed posts up to `count`, spread among them. The
 * composing draws from a generator of its own, so demo/archive's output (no --posts)
 * stays byte for byte what it was.
 */
function withComposedPosts(originals, count) {
  const draw = mulberry32(SEED ^ 0x2590);
  const pick = (items) => items[Math.floor(draw() * items.length)];
  const leadingMentions = (text) => /^(?:@\w+ )+/.exec(text)?.[0] ?? '';
  const body = (text) => text.replace(/^RT @\w+: /, '').slice(leadingMentions(text).length);
  // sentences that read as posts (not "ok", not "fog.", not a line of a list), each with its post's index
  const sentences = originals.flatMap((text, post) =>
    body(text)
      .split(/(?<=[.!?])\s+/)
      .filter((s) => !s.includes('\n') && s.split(/\s+/).filter((w) => /[a-z]/i.test(w)).length >= 3)
      .map((sentence) => ({ sentence, post })),
  );
  const plain = originals.filter((t) => !t.startsWith('RT @') && body(t).length >= 60);
  const others = Object.keys(PEOPLE).filter((name) => name !== ACCOUNT.username);
  const seen = new Set(originals);
  const composed = [];
  while (composed.length < count - originals.length) {
    let text;
    for (let attempt = 0; attempt < 1000 && (text === undefined || seen.has(text)); attempt++) {
      const model = pick(originals);
      const target = body(pick(plain)).length; // about as long as a real post
      const used = new Set();
      const parts = [];
      while (parts.length < 3 && parts.join(' ').length < target - 20) {
        const { sentence, post } = pick(sentences);
        if (used.has(post) || [...parts, sentence].join(' ').length > 270) continue;
        used.add(post);
        parts.push(sentence);
      }
      const joined = parts.join(' ');
      text = model.startsWith('RT @') ? `RT @${pick(others)}: ${joined}` : `${leadingMentions(model)}${joined}`;
    }
    if (seen.has(text)) throw new Error(`could not compose post ${originals.length + composed.length + 1} unlike every other; ask for fewer --posts`);
    seen.add(text);
    composed.push(text);
  }
  // spread the new posts among the originals, keeping the originals' order
  const out = [...originals];
  for (const text of composed) out.splice(Math.floor(draw() * (out.length + 1)), 0, text);
  return out;
}

const codePoints = (s) => [...s].length;
const escapeHtml = (s) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** The text as X stores it (before HTML escaping), with its URL entities. */
function shapeText(text) {
  const urls = [];
  let shaped = text.replace(/https?:\/\/\S+/g, (expanded) => {
    const url = `https://t.co/${randomCode(10)}`;
    const bare = expanded.replace(/^https?:\/\//, '');
    urls.push({ url, expanded_url: expanded, display_url: bare.length > 26 ? `${[...bare].slice(0, 25).join('')}…` : bare });
    return url;
  });
  if (shaped.startsWith('RT @') && codePoints(shaped) > 140) {
    shaped = `${[...shaped].slice(0, 139).join('').trimEnd()}…`;
  }
  return { shaped, urls };
}

/** Code-point [start, end] of every match of `pattern` in `text`, as strings. */
function indicesOf(text, start) {
  const from = codePoints(text.slice(0, start));
  return (length) => [String(from), String(from + length)];
}

function entitiesOf(text, urls) {
  const hashtags = [];
  for (const m of text.matchAll(/#(\w+)/g)) {
    hashtags.push({ text: m[1], indices: indicesOf(text, m.index)(codePoints(m[0])) });
  }
  const user_mentions = [];
  for (const m of text.matchAll(/@(\w+)/g)) {
    const person = PEOPLE[m[1]];
    if (!person) throw new Error(`posts.txt mentions @${m[1]}, who is not in PEOPLE`);
    user_mentions.push({ name: person.name, screen_name: m[1], indices: indicesOf(text, m.index)(codePoints(m[0])), id_str: person.id, id: person.id });
  }
  const urlEntities = urls.map((u) => {
    const at = text.indexOf(u.url);
    return { url: u.url, expanded_url: u.expanded_url, display_url: u.display_url, indices: indicesOf(text, at)(codePoints(u.url)) };
  });
  return { hashtags, symbols: [], user_mentions, urls: urlEntities };
}

// --- dates and ids ----------------------------------------------------------
// One moment per post, increasing: a random day in the range, a waking hour.
const moments = texts
  .map(() => {
    const day = FIRST_DAY + randomInt(0, Math.round((LAST_DAY - FIRST_DAY) / 86_400_000)) * 86_400_000;
    return day + randomInt(5 * 3600, 22 * 3600 + 3599) * 1000;
  })
  .sort((a, b) => a - b);
for (let i = 1; i < moments.length; i++) if (moments[i] <= moments[i - 1]) moments[i] = moments[i - 1] + 61_000;

/** A snowflake id: milliseconds since X's epoch in the top bits, so ids grow with time. */
const snowflake = (ms) => String(((BigInt(ms) - TWITTER_EPOCH) << 22n) | BigInt(randomInt(0, (1 << 22) - 1)));

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n) => String(n).padStart(2, '0');
function twitterDate(ms) {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000 ${d.getUTCFullYear()}`;
}
function pickSource() {
  let r = random();
  for (const [weight, source] of SOURCES) if ((r -= weight) < 0) return source;
  return SOURCES[0][1];
}
/** Likes: mostly a handful, now and then a post the island loved. */
const likes = () => (random() < 0.08 ? randomInt(20, 140) : randomInt(0, 12));

// --- the tweets ------------------------------------------------------------
const tweets = texts.map((text, i) => {
  const ms = moments[i];
  const id = snowflake(ms);
  const { shaped, urls } = shapeText(text);
  const isRetweet = shaped.startsWith('RT @');
  const entities = entitiesOf(shaped, urls);
  // A reply starts with the mention(s) of who it answers; X leaves them out of the display range.
  const leading = isRetweet ? '' : (/^(?:@\w+ )+/.exec(shaped)?.[0] ?? '');
  const tweet = {
    edit_info: {
      initial: {
        editTweetIds: [id],
        editableUntil: new Date(ms + 3_600_000).toISOString(),
        editsRemaining: '5',
        isEditEligible: !isRetweet && !leading && ms >= Date.UTC(2022, 8, 1),
      },
    },
    retweeted: false,
    source: pickSource(),
    entities,
    display_text_range: [String(codePoints(leading)), String(codePoints(shaped))],
    favorite_count: isRetweet ? '0' : String(likes()),
    id_str: id,
    truncated: false,
    retweet_count: isRetweet ? String(randomInt(1, 9)) : String(random() < 0.3 ? randomInt(1, 6) : 0),
    id,
    created_at: twitterDate(ms),
    favorited: false,
    full_text: escapeHtml(shaped),
    lang: /[a-z]{2,}.*[a-z]{2,}/i.test(shaped.replace(/https?:\/\/\S+|[@#]\w+/g, '')) ? 'en' : 'und',
  };
  if (leading) {
    const screenName = leading.slice(1).split(' ')[0];
    const person = PEOPLE[screenName];
    // The post answered: a made-up id a little older than the reply.
    const repliedTo = snowflake(ms - randomInt(5, 240) * 60_000);
    Object.assign(tweet, {
      in_reply_to_status_id_str: repliedTo,
      in_reply_to_user_id: person.id,
      in_reply_to_status_id: repliedTo,
      in_reply_to_screen_name: screenName,
      in_reply_to_user_id_str: person.id,
    });
  }
  if (urls.length > 0) tweet.possibly_sensitive = false;
  return { tweet };
});

// --- writing ---------------------------------------------------------------
/** X's own layout: `window.YTD.<name>.partN = [ … ]`, here one tweet a line to keep the files small. */
function ytdScript(name, items) {
  return `window.YTD.${name} = [\n${items.map((item) => JSON.stringify(item)).join(',\n')}\n]`;
}

mkdirSync(dataDir, { recursive: true });
const newestFirst = [...tweets].reverse();
const parts = [newestFirst.slice(0, PART0_SIZE), newestFirst.slice(PART0_SIZE)];
const files = {
  'account.js': ytdScript('account.part0', [
    {
      account: {
        email: 'demo@example.org',
        createdVia: 'web',
        username: ACCOUNT.username,
        accountId: ACCOUNT.accountId,
        createdAt: ACCOUNT.createdAt,
        accountDisplayName: ACCOUNT.displayName,
      },
    },
  ]),
  'profile.js': ytdScript('profile.part0', [
    {
      profile: {
        description: {
          bio: 'Retired lighthouse keeper (41 years on the lamp). Sourdough, storm socks, tides & gulls. Starter: Old Agnes. Gull: Barnaby. Fictional. — M.',
          website: 'https://example.org/fenwick',
          location: 'A windy island, 4 knots from anywhere',
        },
        // No avatarMediaUrl: an address that points nowhere would show as a
        // broken picture in the model card; without one it draws her initial.
      },
    },
  ]),
  'tweets.js': ytdScript('tweets.part0', parts[0]),
  'tweets-part1.js': ytdScript('tweets.part1', parts[1]),
};
/** What the manifest reports as the archive's size: the bytes of the other files. */
const dataBytes = Object.values(files).reduce((sum, content) => sum + Buffer.byteLength(content), 0);
files['manifest.js'] = `window.__THAR_CONFIG = ${JSON.stringify(
  {
    userInfo: { accountId: ACCOUNT.accountId, userName: ACCOUNT.username, displayName: ACCOUNT.displayName },
    archiveInfo: {
      sizeBytes: String(dataBytes),
      generationDate: '2025-01-06T10:21:37.000Z',
      isPartialArchive: false,
      maxPartSizeBytes: '53687091200',
    },
    dataTypes: {
      account: { files: [{ fileName: 'data/account.js', globalName: 'YTD.account.part0', count: '1' }] },
      profile: { files: [{ fileName: 'data/profile.js', globalName: 'YTD.profile.part0', count: '1' }] },
      tweets: {
        files: parts.map((part, n) => ({
          fileName: n === 0 ? 'data/tweets.js' : `data/tweets-part${n}.js`,
          globalName: `YTD.tweets.part${n}`,
          count: String(part.length),
        })),
      },
    },
  },
  null,
  2,
)}`;
for (const [name, content] of Object.entries(files)) writeFileSync(join(dataDir, name), content);

// --- the pipeline's counts (pipeline.md §2–4), checked on what was written ---
function parseScript(text) {
  const start = text.indexOf('[', text.indexOf('=') + 1);
  return JSON.parse(text.slice(start).trimEnd().replace(/;$/, ''));
}
const fixText = (s) => s.replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
function cleanTweet(s) {
  for (const scheme of ['http:', 'https:']) {
    for (const pattern of [` ${scheme}\\S+`, `${scheme}\\S+ `, `\\n${scheme}\\S+ `, `\\n${scheme}\\S+`, `${scheme}\\S+`]) {
      s = s.replace(new RegExp(pattern, 'g'), '');
    }
  }
  return s.replace(/ +/g, ' ').split(/\s+/).filter(Boolean).join(' ');
}
const isBoring = (s) => s.split(/\s+/).filter((w) => w && !/http|@|#/i.test(w)).length < 3;

const read = [];
for (const name of ['tweets.js', 'tweets-part1.js']) {
  read.push(...parseScript(readFileSync(join(dataDir, name), 'utf8')).map((item) => item.tweet));
}
for (const name of ['account.js', 'profile.js']) parseScript(readFileSync(join(dataDir, name), 'utf8'));
JSON.parse(files['manifest.js'].slice(files['manifest.js'].indexOf('{')));
const ids = read.map((t) => BigInt(t.id_str)).reverse();
if (new Set(ids).size !== ids.length || ids.some((id, i) => i > 0 && id <= ids[i - 1])) throw new Error('ids not unique and increasing');
if (read.length !== texts.length || new Set(read.map((t) => t.full_text)).size !== read.length) throw new Error('posts not all written, or not all distinct');

let retweets = 0;
let short = 0;
const kept = [];
for (const t of read) {
  if (t.full_text.startsWith('RT @')) retweets++;
  else {
    const cleaned = cleanTweet(fixText(t.full_text));
    if (isBoring(cleaned)) short++;
    else kept.push(cleaned);
  }
}
const keptCharacters = kept.reduce((sum, s) => sum + codePoints(s), 0);
const joinedCharacters = keptCharacters + '<|endoftext|>'.length * Math.max(0, kept.length - 1);
const lengths = kept.map(codePoints);
console.log(`wrote ${Object.keys(files).map((f) => `data/${f}`).join(', ')} in ${archiveDir}`);
console.log(`tweets downloaded ${read.length}, retweets ${retweets}, short tweets ${short}, tweets kept ${kept.length}`);
console.log(
  `kept characters ${keptCharacters} (joined with <|endoftext|>: ${joinedCharacters}); kept post length ${Math.min(...lengths)}–${Math.max(...lengths)}, mean ${(keptCharacters / kept.length).toFixed(1)}`,
);
console.log(`dates ${read.at(-1).created_at} … ${read[0].created_at}`);
if (keptCharacters < 40_000) console.log('WARNING: under 40,000 kept characters: tweetsmith will warn');
