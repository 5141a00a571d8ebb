// Central finite differences of the engine's loss in one parameter entry, for the
// gradient checks of the whole model and of LoRA's adapters.

/** The entries a check probes: the one with the largest gradient, and one in the middle. */
export function probedEntries(g: Float32Array): number[] {
  let largest = 0;
  for (let i = 1; i < g.length; i++) if (Math.abs(g[i]) > Math.abs(g[largest])) largest = i;
  return [largest, Math.floor(g.length / 2) + 1];
}

/**
 * (loss(x + h) − loss(x − h)) / 2h in entry `i` of `values` (a copy of the
 * parameter), written with `set`; the entry is put back before it returns.
 */
export async function centralDifference(
  values: Float32Array,
  i: number,
  h: number,
  set: (values: Float32Array) => Promise<void>,
  loss: () => Promise<number>,
): Promise<number> {
  const original = values[i];
  values[i] = original + h;
  await set(values);
  const up = await loss();
  values[i] = original - h;
  await set(values);
  const down = await loss();
  values[i] = original;
  await set(values);
  return (up - down) / (2 * h);
}
