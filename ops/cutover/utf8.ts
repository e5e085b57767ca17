import { isUtf8 } from "node:buffer";

/** Raw-byte UTF-8 checks: TEXT is checked as the bytes SQLite stored, before anything decodes it. */

/** The offset of the first byte that does not start or continue a valid UTF-8 sequence. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let at = 0; at < bytes.length; ) {
    const b = bytes[at] as number;
    const length = b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    if (length === 0 || at + length > bytes.length) return at;
    if (length > 1 && !isUtf8(bytes.subarray(at, at + length))) return at;
    at += length;
  }
  return -1;
}

/** The bytes around an invalid one, printable: ASCII as it is, anything else as \xNN. */
export function showBytes(bytes: Uint8Array, at: number): string {
  const from = Math.max(0, at - 20);
  const to = Math.min(bytes.length, at + 20);
  let out = from > 0 ? "..." : "";
  for (let i = from; i < to; i += 1) {
    const b = bytes[i] as number;
    out += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return `${out}${to < bytes.length ? "..." : ""}`;
}
