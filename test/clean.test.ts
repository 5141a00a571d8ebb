// Cleaning and counting, against expected values written by hand from
// pipeline.md §2–3 (each traced through the original's substitutions in order).
import test from 'ava';
import { cleanTweet, curatePosts, fixText, isBoringTweet } from '../lib/data/index.js';
import type { Post } from '../lib/sources/index.js';

test('fixText undoes &amp; &lt; &gt; and nothing else', (t) => {
  t.is(fixText('Tom &amp; Jerry &lt;3 &gt;_&lt;'), 'Tom & Jerry <3 >_<');
  t.is(fixText('&quot;hi&quot; &#39;there&#39;'), '&quot;hi&quot; &#39;there&#39;');
  // One pass, like Python's str.replace: "&amp;amp;" becomes "&amp;", not "&".
  t.is(fixText('&amp;amp;'), '&amp;');
});

test('cleanTweet removes a URL in the middle with the space before it', (t) => {
  t.is(cleanTweet('read this https://t.co/abc now please'), 'read this now please');
});

test('cleanTweet removes a URL at the end', (t) => {
  t.is(cleanTweet('great article http://x.co/1'), 'great article');
});

test('cleanTweet removes a URL at the start with the space after it', (t) => {
  t.is(cleanTweet('https://t.co/xyz check this out'), 'check this out');
  // Followed by a newline instead of a space: the last substitution takes the URL, strip takes the newline.
  t.is(cleanTweet('https://t.co/a\nnext line here', { allowNewlines: true }), 'next line here');
});

test('cleanTweet removes a URL alone on a line with the newline before it', (t) => {
  t.is(cleanTweet('first line\nhttps://t.co/q\nsecond line'), 'first line second line');
  t.is(cleanTweet('first line\nhttps://t.co/q\nsecond line', { allowNewlines: true }), 'first line\nsecond line');
  // At the start of a line and followed by a space: the URL and that space go, the newline stays.
  t.is(cleanTweet('hello\nhttps://t.co/q more words', { allowNewlines: true }), 'hello\nmore words');
});

test('cleanTweet removes both schemes and leaves other words alone', (t) => {
  t.is(cleanTweet('Mixed http://a.co and https://b.co links here'), 'Mixed and links here');
  t.is(cleanTweet('httpfoo is not a link'), 'httpfoo is not a link');
  t.is(cleanTweet('(see https://x.co).'), '(see');
  t.is(cleanTweet('https://t.co/only'), '');
  // Schemes are matched as written: the original left an upper-case one in place.
  t.is(cleanTweet('HTTPS://x.co stays'), 'HTTPS://x.co stays');
});

test('cleanTweet collapses spaces, and all whitespace unless newlines are allowed', (t) => {
  t.is(cleanTweet('so   many    spaces'), 'so many spaces');
  t.is(cleanTweet('  hi there  '), 'hi there');
  t.is(cleanTweet('a\n\n  b'), 'a b');
  t.is(cleanTweet('a\n\n  b', { allowNewlines: true }), 'a\n\n b');
  t.is(cleanTweet('a\tb c'), 'a b c');
  t.is(cleanTweet('a\tb c', { allowNewlines: true }), 'a\tb c');
  t.is(cleanTweet('line one\n\nline two is here\n', { allowNewlines: true }), 'line one\n\nline two is here');
});

test('cleanTweet uses Python whitespace, not JavaScript whitespace', (t) => {
  // U+001C is whitespace to Python's str.split(); U+FEFF is not.
  t.is(cleanTweet('x\u001cy z w'), 'x y z w');
  t.is(cleanTweet('x\ufeffy z'), 'x\ufeffy z');
});

test('isBoringTweet: fewer than 3 words without http, @ or #', (t) => {
  t.true(isBoringTweet(''));
  t.true(isBoringTweet('hello world'));
  t.false(isBoringTweet('hello big world'));
  t.true(isBoringTweet('@bob #tag hello there'));
  t.false(isBoringTweet('@bob hello there friend'));
  t.true(isBoringTweet('HTTPS://x.co HTTPstuff foo bar'));
  t.true(isBoringTweet('C# is neat'));
  t.false(isBoringTweet('email me@x.com now ok'));
});

function post(id: string, text: string, isRetweet = text.startsWith('RT @')): Post {
  return { id, text, createdAt: '', isRetweet, author: { handle: 'sample' } };
}

// The tweets of test/fixtures/archive/sample (the archive tests read the same ones).
const FIXTURE: Post[] = [
  post('1001', 'Just shipped a new release of my side project &amp; I am proud of it https://t.co/aaa'),
  post('1002', 'RT @someone: This is a retweet with plenty of words in it'),
  post('1003', '@friend thanks!'),
  post('1004', 'https://t.co/bbb Morning thoughts on coffee and code'),
  post('1005', 'lol https://t.co/ccc'),
  post('1006', 'Three lines today\nhttps://t.co/ddd\nand a second &lt;thought&gt; here'),
  post('1007', '#buildinpublic #indiehackers day 12 http://x.co'),
  post('1008', 'RT @other: another retweet'),
  post('1009', 'Writing tests   by hand is    slow but worth it'),
  post('1010', 'The last tweet in the archive, from part ten.'),
];

test('curatePosts counts retweets, short and kept tweets (downloaded = the sum)', (t) => {
  const { kept, counts } = curatePosts(FIXTURE);
  t.deepEqual(counts, { downloaded: 10, retweets: 2, short: 3, kept: 5 });
  t.deepEqual(kept, [
    'Just shipped a new release of my side project & I am proud of it',
    'Morning thoughts on coffee and code',
    'Three lines today and a second <thought> here',
    'Writing tests by hand is slow but worth it',
    'The last tweet in the archive, from part ten.',
  ]);
});

test('curatePosts keeps newlines when allowed', (t) => {
  const { kept, counts } = curatePosts(FIXTURE, { allowNewlines: true });
  t.deepEqual(counts, { downloaded: 10, retweets: 2, short: 3, kept: 5 });
  t.is(kept[2], 'Three lines today\nand a second <thought> here');
});

test('curatePosts trusts the retweet flag of the source, not only the text', (t) => {
  // A Bluesky repost or Mastodon boost does not start with "RT @".
  const { counts } = curatePosts([post('1', 'a reposted post with enough words', true), post('2', 'my own post with enough words')]);
  t.deepEqual(counts, { downloaded: 2, retweets: 1, short: 0, kept: 1 });
});
