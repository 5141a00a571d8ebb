// Token blocks: the training text's tokens cut into rows of blockSize
// (pipeline.md §6), and the .bin file that holds them.
//
// File format: the blocks one after another, each token a little-endian
// uint32 (GPT-2's ids would fit in uint16, but a model with a larger
// vocabulary would not, and the files stay small next to a model). No header:
// the block size is in stats.json, and the file length is blocks × blockSize × 4.
import { readFile } from 'node:fs/promises';

export const TOKEN_FILE_FORMAT = 'uint32le';

/** Consecutive blocks of `blockSize` tokens, row-major; the last partial block is dropped. */
export function cutIntoBlocks(tokens: readonly number[], blockSize: number): Uint32Array {
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new RangeError(`block size must be a whole number ≥ 1, not ${blockSize}`);
  const count = Math.floor(tokens.length / blockSize);
  const blocks = new Uint32Array(count * blockSize);
  for (let i = 0; i < blocks.length; i++) blocks[i] = tokens[i]!;
  return blocks;
}

/** The bytes of a .bin token file. */
export function tokenBlocksToBytes(blocks: Uint32Array): Buffer {
  const bytes = Buffer.alloc(blocks.length * 4);
  for (let i = 0; i < blocks.length; i++) bytes.writeUInt32LE(blocks[i]!, i * 4);
  return bytes;
}

/** Reads a .bin token file back (whatever the machine's byte order). */
export async function readTokenBlocks(path: string, blockSize: number): Promise<Uint32Array> {
  const bytes = await readFile(path);
  if (bytes.length % (4 * blockSize) !== 0) {
    throw new Error(`${path}: ${bytes.length} bytes is not a whole number of ${blockSize}-token blocks of uint32`);
  }
  const blocks = new Uint32Array(bytes.length / 4);
  for (let i = 0; i < blocks.length; i++) blocks[i] = bytes.readUInt32LE(i * 4);
  return blocks;
}
