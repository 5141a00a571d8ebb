// Encode throughput of tweetsmith's GPT-2 tokenizer against gpt-tokenizer's r50k_base (the
// same encoding) on the same tweet-like corpus, in the same process.
//
//   node --import tsx scripts/bench-tokenizer.ts [--mb 2] [--repeats 5]
//
// Each repeat builds a fresh tokenizer of each kind (so word caches start empty), encodes the
// whole corpus once ("cold": what a first pass over a dataset costs) and again ("warm": every
// word cached). Ours and the peer alternate which goes first; medians are reported.
// Building the tokenizers (reading the vocabulary) is not timed.
import { pathToFileURL } from 'node:url';
import { GptEncoding } from 'gpt-tokenizer/GptEncoding';
import r50kRanks from 'gpt-tokenizer/bpeRanks/r50k_base';
import { Tokenizer } from '../lib/tokenizer/index.js';
import { makeTokenizerCorpus } from '../test/helpers/tokenizer-corpus.js';

export interface Throughput {
  mbPerSec: number;
  tokensPerSec: number;
}

export interface EncoderThroughput extends Throughput {
  /** The second pass, with every word in the cache. */
  warm: Throughput;
}

export interface TokenizerBench {
  /** Cold-cache throughput of ours (and `warm`). */
  ours: EncoderThroughput;
  peer: EncoderThroughput;
  /** ours.mbPerSec / peer.mbPerSec (cold). */
  ratio: number;
  warmRatio: number;
  peerName: string;
  corpus: { pieces: number; bytes: number; tokens: number };
  repeats: number;
}

type Encode = (text: string) => number[];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Seconds to encode every piece, and the token count. */
function timePass(encode: Encode, pieces: readonly string[]): { seconds: number; tokens: number } {
  let tokens = 0;
  const start = process.hrtime.bigint();
  for (const piece of pieces) tokens += encode(piece).length;
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, tokens };
}

export async function benchTokenizer(opts: { bytes?: number; repeats?: number } = {}): Promise<TokenizerBench> {
  const bytesWanted = opts.bytes ?? 2_000_000;
  const repeats = opts.repeats ?? 5;
  // No <|endoftext|> handling differences to measure: both cut it the same way when allowed,
  // but gpt-tokenizer throws on it by default, so the benchmark corpus leaves it out.
  const pieces = makeTokenizerCorpus({ bytes: bytesWanted, seed: 0xbe7c }).map((p) => p.replaceAll('<|endoftext|>', ''));
  const bytes = pieces.reduce((sum, piece) => sum + Buffer.byteLength(piece, 'utf8'), 0);

  const makers: Record<'ours' | 'peer', () => Encode> = {
    ours: () => {
      const tokenizer = Tokenizer.gpt2();
      return (text) => tokenizer.encode(text);
    },
    peer: () => {
      const encoding = GptEncoding.getEncodingApi('r50k_base', () => r50kRanks);
      return (text) => encoding.encode(text);
    },
  };
  // Build once untimed so that the first timed repeat does not pay for reading the vocabulary.
  makers.ours();
  makers.peer();

  const samples = { ours: { cold: [] as number[], warm: [] as number[] }, peer: { cold: [] as number[], warm: [] as number[] } };
  const tokenCounts = { ours: 0, peer: 0 };
  for (let r = 0; r < repeats; r++) {
    const order: Array<'ours' | 'peer'> = r % 2 === 0 ? ['ours', 'peer'] : ['peer', 'ours'];
    for (const who of order) {
      const encode = makers[who]();
      const cold = timePass(encode, pieces);
      const warm = timePass(encode, pieces);
      samples[who].cold.push(cold.seconds);
      samples[who].warm.push(warm.seconds);
      tokenCounts[who] = cold.tokens;
    }
  }

  const throughput = (seconds: number, tokens: number): Throughput => ({ mbPerSec: bytes / 1e6 / seconds, tokensPerSec: tokens / seconds });
  const summarize = (who: 'ours' | 'peer'): EncoderThroughput => ({
    ...throughput(median(samples[who].cold), tokenCounts[who]),
    warm: throughput(median(samples[who].warm), tokenCounts[who]),
  });
  const ours = summarize('ours');
  const peer = summarize('peer');
  return {
    ours,
    peer,
    ratio: ours.mbPerSec / peer.mbPerSec,
    warmRatio: ours.warm.mbPerSec / peer.warm.mbPerSec,
    peerName: 'gpt-tokenizer@3.4.0 r50k_base',
    corpus: { pieces: pieces.length, bytes, tokens: tokenCounts.ours },
    repeats,
  };
}

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await benchTokenizer({ bytes: flag('mb', 2) * 1e6, repeats: flag('repeats', 5) });
  const { corpus } = result;
  const row = (name: string, t: EncoderThroughput) =>
    `${name.padEnd(32)} ${t.mbPerSec.toFixed(2).padStart(9)} ${(t.tokensPerSec / 1e6).toFixed(2).padStart(10)} ${t.warm.mbPerSec.toFixed(2).padStart(9)} ${(t.warm.tokensPerSec / 1e6).toFixed(2).padStart(10)}`;
  console.log(`corpus: ${corpus.pieces} pieces, ${(corpus.bytes / 1e6).toFixed(2)} MB, ${corpus.tokens} tokens; median of ${result.repeats}; node ${process.version}`);
  console.log(`${'encoder'.padEnd(32)} ${'cold MB/s'.padStart(9)} ${'cold Mtok/s'.padStart(10)} ${'warm MB/s'.padStart(9)} ${'warm Mtok/s'.padStart(10)}`);
  console.log(row('tweetsmith', result.ours));
  console.log(row(result.peerName, result.peer));
  console.log(`ratio (ours / peer): cold ${result.ratio.toFixed(2)}x, warm ${result.warmRatio.toFixed(2)}x`);
}
