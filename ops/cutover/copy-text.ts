import { createHash, type Hash } from "node:crypto";

/**
 * COPY's text format: field escaping as COPY TO prints it, digests of lines split before their last
 * fields, and an order-independent line checksum.
 */

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

const NEWLINE = 0x0a;
const TAB = 0x09;

/**
 * SHA-256 digests of COPY text lines, each split before its last `tailFields` fields: the head
 * (the fields before them, the line's newline kept) and, when `hashTail`, the tail (those fields and
 * the newline). COPY escapes tabs and newlines inside values, so the raw ones are separators. A
 * line with too few fields goes whole into the head, where it cannot match a well-formed line.
 *
 * Chunks may end inside a line (the rest waits for the next chunk). Each chunk is copied once into
 * a work buffer whose first half collects the tails and whose second half holds the chunk, packed
 * in place into the heads with `copyWithin` (no allocation per line), then each part is hashed once
 * per chunk: a per-line hash call costs more than the line's bytes.
 */
export class SplitLineDigest {
  /** Lines seen so far. */
  rows = 0;
  private readonly head = createHash("sha256");
  private readonly tail: Hash | undefined;
  private work = Buffer.alloc(0);
  /** The work buffer's half: the tails go to [0, half), the chunk to [half, 2 * half). */
  private half = 0;
  /** Bytes of an unfinished line waiting at `half`. */
  private rest = 0;

  constructor(
    private readonly tailFields: number,
    hashTail: boolean,
  ) {
    if (hashTail) this.tail = createHash("sha256");
  }

  update(chunk: Buffer): void {
    const length = this.rest + chunk.length;
    if (length > this.half) {
      const half = Math.max(length, 2 * this.half, 1 << 16);
      const work = Buffer.allocUnsafe(2 * half);
      this.work.copy(work, half, this.half, this.half + this.rest);
      this.work = work;
      this.half = half;
    }
    const work = this.work;
    const from = this.half;
    work.set(chunk, from + this.rest);
    const to = from + length;
    const lastNewline = work.lastIndexOf(NEWLINE, to - 1);
    if (lastNewline < from) {
      this.rest = length;
      return;
    }
    if (this.tailFields === 0) {
      for (let at = work.indexOf(NEWLINE, from); at !== -1 && at <= lastNewline; at = work.indexOf(NEWLINE, at + 1)) this.rows += 1;
      this.head.update(work.subarray(from, lastNewline + 1));
    } else {
      this.split(from, lastNewline);
    }
    this.rest = to - (lastNewline + 1);
    work.copyWithin(from, lastNewline + 1, to);
  }

  /** Packs the heads of the lines in [from, lastNewline] in place and the tails to the front, then hashes both. */
  private split(from: number, lastNewline: number): void {
    const work = this.work;
    let head = from;
    let tail = 0;
    for (let start = from; start <= lastNewline; ) {
      const end = work.indexOf(NEWLINE, start);
      let split = end;
      for (let field = 0; field < this.tailFields && split > start; field += 1) split = work.lastIndexOf(TAB, split - 1);
      if (split < start) split = end;
      if (this.tail && split < end) {
        work.copyWithin(tail, split + 1, end + 1);
        tail += end - split;
      }
      work.copyWithin(head, start, split);
      head += split - start;
      work[head] = NEWLINE;
      head += 1;
      this.rows += 1;
      start = end + 1;
    }
    this.head.update(work.subarray(from, head));
    if (this.tail) this.tail.update(work.subarray(0, tail));
  }

  /**
   * The digests (hex); `tail` is the empty string's digest when no line had a tail.
   * @throws Error when the bytes ended inside a line.
   */
  digest(): { rows: number; head: string; tail: string } {
    if (this.rest > 0) throw new Error(`COPY text ended inside a line (${this.rest} bytes after the last newline)`);
    return { rows: this.rows, head: this.head.digest("hex"), tail: this.tail?.digest("hex") ?? "" };
  }
}
