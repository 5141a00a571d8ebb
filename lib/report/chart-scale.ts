// Axis ranges and tick values for the report's charts: round numbers
// (1, 2 or 5 times a power of ten) that cover the data, as a person would
// draw them on paper.

export interface Axis {
  min: number;
  max: number;
  ticks: number[];
}

/** The round step that splits `span` into at most about `count` parts. */
function niceStep(span: number, count: number): number {
  const raw = span / Math.max(count, 1);
  const power = 10 ** Math.floor(Math.log10(raw));
  const mantissa = raw / power;
  const nice = mantissa <= 1 ? 1 : mantissa <= 2 ? 2 : mantissa <= 5 ? 5 : 10;
  return nice * power;
}

// Sums of a step drift (0.1 + 0.2); ticks are rounded to what they were meant to be.
const clean = (x: number) => Number(x.toPrecision(12));

/**
 * An axis from the tick at or below `min` to the tick at or above `max`, about
 * `count` ticks apart. A flat range (one value) is widened so it still has an
 * extent; `integer` keeps ticks on whole numbers (steps).
 */
export function niceAxis(min: number, max: number, count = 5, integer = false): Axis {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { min: 0, max: 1, ticks: [0, 1] };
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  let step = niceStep(max - min, count);
  if (integer) step = Math.max(1, Math.round(step));
  const lo = clean(Math.floor(min / step) * step);
  const hi = clean(Math.ceil(max / step) * step);
  const ticks: number[] = [];
  for (let i = 0; ; i++) {
    const tick = clean(lo + i * step);
    if (tick > hi + step * 1e-9) break;
    ticks.push(tick);
  }
  return { min: lo, max: hi, ticks };
}

/** Maps [domain0, domain1] onto [range0, range1]. */
export function linearScale(domain: [number, number], range: [number, number]): (x: number) => number {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (x) => r0 + (x - d0) * k;
}
