// Reading a safetensors file from TypeScript (the engine reads model weights
// natively; this is for fixtures, exports and inspection). F32, F16 and BF16.
import { readFile, writeFile } from 'node:fs/promises';

export interface SafetensorsTensor {
  dtype: string;
  shape: number[];
  data: Float32Array;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export async function readSafetensors(file: string): Promise<Map<string, SafetensorsTensor>> {
  const buf = await readFile(file);
  if (buf.length < 8) throw new Error(`${file}: not a safetensors file (too short)`);
  const n = Number(buf.readBigUInt64LE(0));
  if (n > buf.length - 8) throw new Error(`${file}: header length ${n} runs past the end of the file (truncated?)`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  } catch (err) {
    throw new Error(`${file}: the header is not valid JSON (${(err as Error).message})`);
  }
  const dataStart = 8 + n;
  const out = new Map<string, SafetensorsTensor>();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [begin, end] = info.data_offsets;
    if (dataStart + end > buf.length) throw new Error(`${file}: tensor ${name} lies past the end of the file (truncated?)`);
    const bytes = buf.subarray(dataStart + begin, dataStart + end);
    const count = info.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(count);
    if (info.dtype === 'F32') {
      for (let i = 0; i < count; i++) data[i] = bytes.readFloatLE(4 * i);
    } else if (info.dtype === 'F16') {
      for (let i = 0; i < count; i++) data[i] = halfToFloat(bytes.readUInt16LE(2 * i));
    } else if (info.dtype === 'BF16') {
      const word = Buffer.alloc(4);
      for (let i = 0; i < count; i++) {
        word.writeUInt16LE(0, 0);
        word.writeUInt16LE(bytes.readUInt16LE(2 * i), 2);
        data[i] = word.readFloatLE(0);
      }
    } else {
      throw new Error(`${file}: tensor ${name} has dtype ${info.dtype}; only F32, F16 and BF16 are read`);
    }
    out.set(name, { dtype: info.dtype, shape: info.shape, data });
  }
  return out;
}

function floatToHalf(f: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, f);
  const x = view.getUint32(0);
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (exp <= 0) return sign; // flush tiny values to zero: enough for test files
  if (exp >= 31) return sign | 0x7c00;
  const rounded = (exp << 10) | (mant >>> 13);
  return sign | (rounded + ((mant >>> 12) & 1)); // round half up
}

/** Writes tensors (row-major) as F32, F16 or BF16 with {"format": "pt"} metadata. */
export async function writeSafetensors(
  file: string,
  tensors: Map<string, { shape: number[]; data: Float32Array }>,
  dtype: 'F32' | 'F16' | 'BF16' = 'F32',
): Promise<void> {
  const size = dtype === 'F32' ? 4 : 2;
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + t.data.length * size] };
    offset += t.data.length * size;
  }
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8) json += ' ';
  const out = Buffer.alloc(8 + Buffer.byteLength(json) + offset);
  out.writeBigUInt64LE(BigInt(Buffer.byteLength(json)), 0);
  out.write(json, 8, 'utf8');
  let at = 8 + Buffer.byteLength(json);
  for (const t of tensors.values()) {
    for (const v of t.data) {
      if (dtype === 'F32') out.writeFloatLE(v, at);
      else if (dtype === 'F16') out.writeUInt16LE(floatToHalf(v), at);
      else {
        const word = Buffer.alloc(4);
        word.writeFloatLE(v, 0);
        out.writeUInt16LE(word.readUInt16LE(2), at); // truncate to bf16
      }
      at += size;
    }
  }
  await writeFile(file, out);
}
