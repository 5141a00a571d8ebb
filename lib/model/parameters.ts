// How many parameters a GPT-2 of a given shape has (the output layer is tied to wte).
export function countParameters(c: { nLayer: number; nEmbd: number; nPositions: number; vocabSize: number }): number {
  const C = c.nEmbd;
  const perLayer = 2 * C + (C * 3 * C + 3 * C) + (C * C + C) + 2 * C + (C * 4 * C + 4 * C) + (4 * C * C + C);
  return c.vocabSize * C + c.nPositions * C + c.nLayer * perLayer + 2 * C;
}
