// Encode throughput of tweetsmith's GPT-2 tokenizer against gpt-tokenizer's r50k_base (the
// same encoding) on the same tweet-like corpus, in the same process.
//
//   tweetsmith bench --only tokenizer
//
// Each repeat builds a fresh tokenizer of each kind (so word caches start empty), encodes the
// whole corpus once ("cold": what a first pass over a dataset costs) and again ("warm": every
// word cached). Ours and the peer alternate which goes first; medians are reported.
// Building the tokenizers (reading the vocabulary) is not timed.
import { Tokenizer } from '../tokenizer/index.js';
import { makeTokenizerCorpus } from './tokenizer-corpus.js';

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
  /** the peer's throughput; absent when gpt-tokenizer (a devDependency) is not installed */
  peer?: EncoderThroughput;
  /** ours.mbPerSec / peer.mbPerSec (cold). */
  ratio?: number;
  warmRatio?: number;
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

/** gpt-tokenizer's r50k_base encoder, when the package is installed (it is a devDependency). */
async function loadPeer(): Promise<(() => Encode) | undefined> {
  try {
    const { GptEncoding } = await import('gpt-tokenizer/GptEncoding');
    const { default: ranks } = await import('gpt-tokenizer/bpeRanks/r50k_base');
    return () => {
      const encoding = GptEncoding.getEncodingApi('r50k_base', () => ranks);
      return (text) => encoding.encode(text);
    };
  } catch {
    return undefined;
  }
}

export async function benchTokenizer(opts: { bytes?: number; repeats?: number } = {}): Promise<TokenizerBench> {
  const bytesWanted = opts.bytes ?? 2_000_000;
  const repeats = opts.repeats ?? 5;
  // No <|endoftext|> handling differences to measure: both cut it the same way when allowed,
  // but gpt-tokenizer throws on it by default, so the benchmark corpus leaves it out.
  const pieces = makeTokenizerCorpus({ bytes: bytesWanted, seed: 0xbe7c }).map((p) => p.replaceAll('<|endoftext|>', ''));
  const bytes = pieces.reduce((sum, piece) => sum + Buffer.byteLength(piece, 'utf8'), 0);

  const peerMaker = await loadPeer();
  const makers: Record<'ours' | 'peer', () => Encode> = {
    ours: () => {
      const tokenizer = Tokenizer.gpt2();
      return (text) => tokenizer.encode(text);
    },
    peer: peerMaker ?? (() => () => []),
  };
  const contenders: Array<'ours' | 'peer'> = peerMaker ? ['ours', 'peer'] : ['ours'];
  // Build once untimed so that the first timed repeat does not pay for reading the vocabulary.
  for (const who of contenders) makers[who]();

  const samples = { ours: { cold: [] as number[], warm: [] as number[] }, peer: { cold: [] as number[], warm: [] as number[] } };
  const tokenCounts = { ours: 0, peer: 0 };
  for (let r = 0; r < repeats; r++) {
    const order = r % 2 === 0 ? contenders : [...contenders].reverse();
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
  const peer = peerMaker ? summarize('peer') : undefined;
  return {
    ours,
    peer,
    ratio: peer && ours.mbPerSec / peer.mbPerSec,
    warmRatio: peer && ours.warm.mbPerSec / peer.warm.mbPerSec,
    peerName: 'gpt-tokenizer@3.4.0 r50k_base',
    corpus: { pieces: pieces.length, bytes, tokens: tokenCounts.ours },
    repeats,
  };
}
