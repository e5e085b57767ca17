/** COPY's text format: field escaping as COPY TO prints it, and an order-independent line checksum. */

const COPY_SPECIAL = /[\\\n\r\t\b\f\v]/;
const COPY_ESCAPES: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f", "\v": "\\v" };

/**
 * One field in COPY's text format, escaped exactly as COPY TO escapes output (backslash, newline,
 * carriage return, tab, backspace, form feed, vertical tab; NULL as \N), so sent and returned
 * lines compare equal.
 */
export function escapeCopyText(field: string | null): string {
  if (field === null) return "\\N";
  if (!COPY_SPECIAL.test(field)) return field;
  return field.replace(/[\\\n\r\t\b\f\v]/g, (c) => COPY_ESCAPES[c] as string);
}

/**
 * A 64-bit hash of one COPY line (two 32-bit lanes: FNV-1a and a multiply-xorshift, each finalized
 * with murmur3's fmix32), added into `sums` so a table's checksum does not depend on row order.
 * It guards against accidental change (triggers, lossy types), not against an adversary.
 */
export function addLineHash(line: string, sums: [number, number]): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c ^ line.length;
  for (let i = 0; i < line.length; i += 1) {
    const c = line.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  a = Math.imul(a, 0xc2b2ae35);
  a ^= a >>> 16;
  b ^= b >>> 16;
  b = Math.imul(b, 0x85ebca6b);
  b ^= b >>> 13;
  b = Math.imul(b, 0xc2b2ae35);
  b ^= b >>> 16;
  // Sums modulo 2^52 stay exact in doubles.
  sums[0] = (sums[0] + (a >>> 0)) % 4503599627370496;
  sums[1] = (sums[1] + (b >>> 0)) % 4503599627370496;
}

export function checksumText(sums: readonly [number, number]): string {
  return `${sums[0].toString(16).padStart(13, "0")}${sums[1].toString(16).padStart(13, "0")}`;
}
