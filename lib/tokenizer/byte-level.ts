// GPT-2's byte ↔ character map. Byte-level BPE works on bytes, but its vocabulary is
// stored as text, so each of the 256 byte values stands for one printable character:
// bytes 33–126, 161–172 and 174–255 stand for themselves, and the other 68 (controls,
// space, DEL, NBSP, soft hyphen) for U+0100 upwards in ascending byte order, so that
// a space reads `Ġ` (U+0120) and a newline `Ċ` (U+010A).

function standsForItself(byte: number): boolean {
  return (byte >= 33 && byte <= 126) || (byte >= 161 && byte <= 172) || (byte >= 174 && byte <= 255);
}

/** The character code that stands for each byte. */
export const BYTE_TO_CHAR_CODE: Uint16Array = (() => {
  const table = new Uint16Array(256);
  let next = 256;
  for (let byte = 0; byte < 256; byte++) table[byte] = standsForItself(byte) ? byte : next++;
  return table;
})();

/** The character (a one-code-unit string) that stands for each byte. */
export const BYTE_TO_CHAR: readonly string[] = Array.from(BYTE_TO_CHAR_CODE, (code) => String.fromCharCode(code));

/** The highest character code in the map (U+0143): codes above it stand for no byte. */
export const MAX_BYTE_CHAR_CODE = 256 + 67;

/** Character code → byte, or -1 for a character that stands for no byte. */
export const CHAR_CODE_TO_BYTE: Int16Array = (() => {
  const table = new Int16Array(MAX_BYTE_CHAR_CODE + 1).fill(-1);
  for (let byte = 0; byte < 256; byte++) table[BYTE_TO_CHAR_CODE[byte]!] = byte;
  return table;
})();

/** The bytes a byte-level token string stands for, or undefined if a character stands for none. */
export function tokenToBytes(token: string): Uint8Array | undefined {
  const bytes = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const code = token.charCodeAt(i);
    const byte = code <= MAX_BYTE_CHAR_CODE ? CHAR_CODE_TO_BYTE[code]! : -1;
    if (byte < 0) return undefined;
    bytes[i] = byte;
  }
  return bytes;
}
