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

/** ‖a − b‖₂ / ‖b‖₂: how far a whole gradient is from the reference, as one number */
export function relativeL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}
