// How far apart two tensors are: the largest absolute difference over the
// reference's largest magnitude (a relative error that zero entries cannot inflate).
export interface Difference {
  maxAbs: number;
  relative: number;
}

export function difference(ours: ArrayLike<number>, reference: ArrayLike<number>): Difference {
  if (ours.length !== reference.length) throw new Error(`length ${ours.length} != reference length ${reference.length}`);
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < ours.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(ours[i] - reference[i]));
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  return { maxAbs, relative: scale > 0 ? maxAbs / scale : maxAbs };
}
