// The smoothed training loss of the report's chart. A loss logged every step
// is noisy (one block each); its trend is what a reader wants to see.

/**
 * Exponential moving average with bias correction (as TensorBoard smooths):
 * without the correction the first points would be pulled towards 0, since
 * the average starts empty. Non-finite values are skipped (they keep the
 * average as it was).
 */
export function ema(values: readonly number[], weight: number): number[] {
  let average = 0;
  let norm = 0;
  return values.map((value) => {
    if (Number.isFinite(value)) {
      average = weight * average + (1 - weight) * value;
      norm = weight * norm + (1 - weight);
    }
    return norm > 0 ? average / norm : value;
  });
}

/**
 * The EMA weight for `count` points: averaging over about 1/25 of the run,
 * so that a short run is barely smoothed and a long one is not a blur.
 */
export function smoothingWeight(count: number): number {
  const span = count / 25;
  return Math.min(0.98, Math.max(0.6, 1 - 2 / (span + 1)));
}
