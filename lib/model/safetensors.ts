// Reading a safetensors file from TypeScript (the engine reads model weights
// natively; this is for fixtures, exports and inspection). F32, F16 and BF16.
import { readFile, writeFile } from 'node:fs/promises';
import { MAX_SAFETENSORS_HEADER } from '../limits.js';

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

/** Bytes per element of the dtypes the format defines. Only F32, F16 and BF16 are decoded; every tensor's size is checked. */
const DTYPE_SIZES: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, F8_E4M3: 1, F8_E5M2: 1, I64: 8, U64: 8, I32: 4, U32: 4, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1,
};

/** Where one tensor lies: [begin, end) in the data after the header. */
export interface SafetensorsRecord {
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isSize = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Reads and checks a safetensors header without trusting any of it: a sane length
 * that fits in the file, UTF-8 JSON, an object of entries with a known dtype, a shape
 * of non-negative integers, offsets in range, a byte count equal to the shape's
 * (computed without overflow), and no two tensors sharing bytes. The engine's loader
 * (native/engine/safetensors.cpp) checks the same. Errors name `file` and the tensor.
 */
export function readSafetensorsHeader(buf: Uint8Array, file: string): { records: Map<string, SafetensorsRecord>; dataStart: number } {
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (bytes.length < 8) throw new Error(`${file}: not a safetensors file (shorter than its 8-byte header length)`);
  const n = bytes.readBigUInt64LE(0);
  if (n > BigInt(MAX_SAFETENSORS_HEADER) || n > BigInt(bytes.length - 8)) {
    throw new Error(`${file}: not a safetensors file or truncated (header length ${n} does not fit in the file's ${bytes.length} bytes)`);
  }
  const dataStart = 8 + Number(n);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    throw new Error(`${file}: the header is not valid UTF-8 (not a safetensors file?)`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: the header is not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(header)) throw new Error(`${file}: the header is not a JSON object`);
  const dataSize = bytes.length - dataStart;
  const records = new Map<string, SafetensorsRecord>();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isObject(info)) throw new Error(`${file}: __metadata__ is not a JSON object`);
      continue;
    }
    const bad = (why: string) => new Error(`${file}: tensor ${name}: ${why}`);
    if (!isObject(info)) throw bad('the header entry is not a JSON object');
    const { dtype, shape, data_offsets: offsets } = info;
    if (typeof dtype !== 'string' || !Array.isArray(shape) || !Array.isArray(offsets) || offsets.length !== 2) {
      throw bad('header entry lacks dtype, shape or data_offsets');
    }
    const size = Object.hasOwn(DTYPE_SIZES, dtype) ? DTYPE_SIZES[dtype]! : 0;
    if (!size) throw bad(`unknown dtype ${JSON.stringify(dtype).slice(0, 40)}`);
    if (shape.length > 8) throw bad(`shape has ${shape.length} dimensions`);
    if (!shape.every(isSize)) throw bad('shape holds something other than non-negative integers');
    const [begin, end] = offsets;
    if (!isSize(begin) || !isSize(end)) throw bad('data_offsets are not two non-negative integers');
    if (end < begin || end > dataSize) {
      throw bad(`data [${begin}, ${end}) lies beyond the ${dataSize} bytes of data in the file (truncated?)`);
    }
    // BigInt: a product of safe integers can pass 2^53, where a double would round it
    const needed = shape.reduce((a: bigint, d: number) => a * BigInt(d), BigInt(size));
    if (BigInt(end - begin) !== needed) throw bad(`holds ${end - begin} bytes but ${dtype} [${shape.join(', ')}] needs ${needed}`);
    records.set(name, { dtype, shape: shape as number[], begin, end });
  }
  // no two tensors share bytes (writing one would change another)
  const spans = [...records].filter(([, r]) => r.end > r.begin).sort((a, b) => a[1].begin - b[1].begin);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i]![1].begin < spans[i - 1]![1].end) throw new Error(`${file}: tensors ${spans[i - 1]![0]} and ${spans[i]![0]} overlap in the file`);
  }
  return { records, dataStart };
}

/** Every tensor of a safetensors file as float32 (F32, F16 and BF16; another dtype is an error naming the tensor). */
export async function readSafetensors(file: string): Promise<Map<string, SafetensorsTensor>> {
  return decodeSafetensors(await readFile(file), file);
}

/** readSafetensors over bytes already read; `file` names them in errors. */
export function decodeSafetensors(buf: Uint8Array, file: string): Map<string, SafetensorsTensor> {
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const { records, dataStart } = readSafetensorsHeader(bytes, file);
  const out = new Map<string, SafetensorsTensor>();
  for (const [name, { dtype, shape, begin, end }] of records) {
    const raw = bytes.subarray(dataStart + begin, dataStart + end);
    const count = raw.length / DTYPE_SIZES[dtype]!; // the header check made the two agree
    const data = new Float32Array(count);
    if (dtype === 'F32') {
      for (let i = 0; i < count; i++) data[i] = raw.readFloatLE(4 * i);
    } else if (dtype === 'F16') {
      for (let i = 0; i < count; i++) data[i] = halfToFloat(raw.readUInt16LE(2 * i));
    } else if (dtype === 'BF16') {
      const word = Buffer.alloc(4);
      for (let i = 0; i < count; i++) {
        word.writeUInt16LE(0, 0);
        word.writeUInt16LE(raw.readUInt16LE(2 * i), 2);
        data[i] = word.readFloatLE(0);
      }
    } else {
      throw new Error(`${file}: tensor ${name} has dtype ${dtype}; only F32, F16 and BF16 are read`);
    }
    out.set(name, { dtype, shape, data });
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
