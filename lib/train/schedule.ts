// Learning-rate schedules, as Hugging Face's get_scheduler computes them: a linear
// warm-up from 0, then constant, linearly decaying, or cosine-decaying to 0.
// `step` is the 0-based optimizer step about to be taken.
export type ScheduleName = 'cosine' | 'linear' | 'constant';
export const SCHEDULES: readonly ScheduleName[] = ['cosine', 'linear', 'constant'];

export function learningRateAt(step: number, totalSteps: number, peak: number, schedule: ScheduleName, warmupSteps: number): number {
  if (step < warmupSteps) return (peak * step) / Math.max(1, warmupSteps);
  if (schedule === 'constant') return peak;
  const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
  if (schedule === 'linear') return peak * Math.max(0, 1 - progress);
  return peak * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/** Warm-up given as a fraction of the steps (as the original's research version did) in whole steps. */
export function warmupSteps(fraction: number, totalSteps: number): number {
  return Math.floor(fraction * totalSteps);
}
