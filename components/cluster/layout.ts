/**
 * Address arithmetic for the VPC a `create` cluster gets: pure, so config.ts, the component and the
 * tests share one layout. IPv4 only (the program never asks for IPv6).
 */

/** The first address and prefix length of an IPv4 CIDR, as a 32-bit unsigned number. */
function parse(cidr: string): { base: number; prefix: number } {
  const [address = "", prefix = "32"] = cidr.split("/");
  const base = address.split(".").reduce((sum, octet) => sum * 256 + Number(octet), 0);
  const bits = Number(prefix);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { base: (base & mask) >>> 0, prefix: bits };
}

function format(base: number, prefix: number): string {
  return `${[24, 16, 8, 0].map((shift) => (base >>> shift) & 255).join(".")}/${prefix}`;
}

/** True when two CIDRs share at least one address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = parse(a);
  const y = parse(b);
  const prefix = Math.min(x.prefix, y.prefix);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return ((x.base & mask) >>> 0) === ((y.base & mask) >>> 0);
}

/** True when every address of `inner` is in `outer`. */
export function cidrContains(outer: string, inner: string): boolean {
  return parse(outer).prefix <= parse(inner).prefix && cidrsOverlap(outer, inner);
}

/** The tiers of the VPC: which subnets hold what, and how each reaches (or not) the internet. */
export type SubnetTier = "public" | "private" | "isolated";

export interface SubnetPlan {
  tier: SubnetTier;
  /** Zone index: 0 for the region's first availability zone. */
  zone: number;
  cidrBlock: string;
}

/**
 * Carves the first /16 of `vpcCidr` into one subnet per tier and zone (at most 3 zones):
 * private /18s for nodes and pods (the VPC CNI gives every pod a VPC address, so they are the
 * largest), public /22s at .192 for load balancers and NAT gateways, isolated /22s at .208 for
 * PostgreSQL and Redis. The rest (.224 to .255) stays free for later tiers.
 * @throws when the CIDR is smaller than a /16 or more than 3 zones are asked for.
 */
export function subnetLayout(vpcCidr: string, zoneCount: number): SubnetPlan[] {
  const { base, prefix } = parse(vpcCidr);
  if (prefix > 16) throw new Error(`subnetLayout: ${vpcCidr} is smaller than a /16`);
  if (zoneCount < 1 || zoneCount > 3) throw new Error(`subnetLayout: ${zoneCount} zones; the layout holds 1 to 3`);
  const at = (thirdOctet: number, size: number) => format((base + thirdOctet * 256) >>> 0, size);
  const zones = Array.from({ length: zoneCount }, (_, zone) => zone);
  return [
    ...zones.map((zone) => ({ tier: "private" as const, zone, cidrBlock: at(64 * zone, 18) })),
    ...zones.map((zone) => ({ tier: "public" as const, zone, cidrBlock: at(192 + 4 * zone, 22) })),
    ...zones.map((zone) => ({ tier: "isolated" as const, zone, cidrBlock: at(208 + 4 * zone, 22) })),
  ];
}
