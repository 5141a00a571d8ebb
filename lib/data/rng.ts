// A seeded random number generator of our own, so that a seed gives the same
// dataset on every machine and Node version (Math.random cannot be seeded).
//
// xoshiro128** (Blackman & Vigna): 128 bits of state, 32-bit outputs, all in
// 32-bit integer arithmetic that JavaScript does exactly. The state is filled
// by splitmix32 from the seed and a stream name, so each use (the validation
// split, the up-sampling of each user, the epochs) has its own independent
// stream: changing the number of epochs does not change the validation split.

export interface Rng {
  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number;
  /** A uniform integer in [0, n), without modulo bias; 1 ≤ n ≤ 2^32. */
  nextBelow(n: number): number;
}

/** The largest seed accepted: seeds are whole numbers in [0, 2^53 - 1]. */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;

export function createRng(seed: number, stream = ''): Rng {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a whole number from 0 to ${MAX_SEED}, not ${seed}`);
  // Fold the seed's high and low 32 bits and the stream name into one splitmix32 start.
  let mix = (seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32) >>> 0, 0x9e3779b1) ^ fnv1a(stream);
  const splitmix32 = () => {
    mix = (mix + 0x9e3779b9) | 0;
    let z = mix;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let s0 = splitmix32();
  let s1 = splitmix32();
  let s2 = splitmix32();
  let s3 = splitmix32();
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1; // the one state xoshiro cannot leave

  const nextUint32 = () => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };
  const nextBelow = (n: number) => {
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) throw new RangeError(`nextBelow(${n}): n must be a whole number in [1, 2^32]`);
    // Reject the top values that would make some results more likely than others.
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = nextUint32();
      if (x < limit) return x % n;
    }
  };
  return { nextUint32, nextBelow };
}

/** A shuffled copy (Fisher–Yates). */
export function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.nextBelow(i + 1);
    const swap = out[i]!;
    out[i] = out[j]!;
    out[j] = swap;
  }
  return out;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** FNV-1a over the UTF-16 units of a stream name: enough to tell streams apart. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}
