/**
 * IPv4 CIDR arithmetic, shared by the policies and the program (components/cluster/layout.ts), kept
 * inside the pack so a published pack is self-contained.
 */

/** The first address (a 32-bit unsigned number) and prefix length of an IPv4 CIDR. */
export function parseCidr(cidr: string): { base: number; prefix: number } {
  const [address = "", prefix = "32"] = cidr.split("/");
  const base = address.split(".").reduce((sum, octet) => sum * 256 + Number(octet), 0);
  const bits = Number(prefix);
  return { base: (base & mask(bits)) >>> 0, prefix: bits };
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function formatCidr(base: number, prefix: number): string {
  return `${[24, 16, 8, 0].map((shift) => (base >>> shift) & 255).join(".")}/${prefix}`;
}

/** True when two CIDRs share at least one address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  const m = mask(Math.min(x.prefix, y.prefix));
  return ((x.base & m) >>> 0) === ((y.base & m) >>> 0);
}

/** True when every address of `inner` is in `outer`. */
export function cidrContains(outer: string, inner: string): boolean {
  return parseCidr(outer).prefix <= parseCidr(inner).prefix && cidrsOverlap(outer, inner);
}
