// f32 → bf16 → f32, rounded to nearest even as the engine's kernels (and ggml, and
// PyTorch) round: the references of the bf16 kernel tests round where the kernels do.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function bf16(x: number): number {
  f32[0] = x;
  const u = u32[0];
  u32[0] = ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) << 16;
  return f32[0];
}
