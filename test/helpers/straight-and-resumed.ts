// One training run straight through, and the same run stopped after step `stopAt`
// and resumed: what the resume tests compare (the outputs must be the same).
import { join } from 'node:path';
import { train, type TrainOptions, type TrainResult } from '../../lib/index.js';

export async function straightAndResumed(
  options: (out: string) => TrainOptions,
  scratch: () => string,
  stopAt = 2,
): Promise<{ straight: string; resumed: string; interrupted: TrainResult; second: TrainResult }> {
  const straight = join(scratch(), 'straight');
  await train(options(straight)).result;
  const resumed = join(scratch(), 'resumed');
  const stopper = new AbortController();
  const first = train({ ...options(resumed), signal: stopper.signal });
  for await (const e of first) if (e.type === 'step' && e.row.step === stopAt) stopper.abort();
  const interrupted = await first.result;
  const second = await train({ ...options(resumed), resume: true }).result;
  return { straight, resumed, interrupted, second };
}
