// Numbers, durations and dates as people read them in the card and the report.
// Fixed locale: a card must not change with the machine that wrote it.

/** 1234567 → "1,234,567". */
export function formatInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n);
}

/** A loss: four decimals, enough to compare runs; NaN and ∞ as words. */
export function formatLoss(x: number): string {
  return Number.isFinite(x) ? x.toFixed(4) : String(x);
}

/** Perplexity can be large: two decimals below 1,000, grouped whole numbers above. */
export function formatPerplexity(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return x < 1000 ? x.toFixed(2) : formatInt(x);
}

/** A learning rate as it is typed on the command line: 1.372e-4, 5e-5, 0.001. */
export function formatRate(x: number): string {
  if (x === 0 || !Number.isFinite(x)) return String(x);
  const rounded = Number(x.toPrecision(4));
  return Math.abs(rounded) < 1e-2 ? rounded.toExponential() : String(rounded);
}

/** Whole numbers as they are, others with up to 4 significant digits (β₂ 0.999, ε 1e-8). */
export function formatNumber(x: number): string {
  if (Number.isInteger(x) || !Number.isFinite(x)) return String(x);
  return formatRate(x);
}

/** A fraction as a percentage: 0.1 → "10%". */
export function formatPercent(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(3))}%`;
}

/** 124439808 → "124.4M"; 6612992 → "6.6M"; 812 → "812". */
export function formatParameters(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

/** 42 → "42 s"; 185 → "3 min 05 s"; 3725 → "1 h 02 min". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return String(seconds);
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const two = (n: number) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)} min ${two(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${two(Math.floor((s % 3600) / 60))} min`;
}

/** An ISO time as "2024-05-01 14:03 UTC"; anything unparsable is returned as it was. */
export function formatDate(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
