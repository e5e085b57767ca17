import { formatCidr, parseCidr } from "../../policies/lib/cidr";

/**
 * Address arithmetic for the VPC a `create` cluster gets: pure, so config.ts, the component and the
 * tests share one layout. IPv4 only (the program never asks for IPv6).
 */

export { cidrContains, cidrsOverlap } from "../../policies/lib/cidr";

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
  const { base, prefix } = parseCidr(vpcCidr);
  if (prefix > 16) throw new Error(`subnetLayout: ${vpcCidr} is smaller than a /16`);
  if (zoneCount < 1 || zoneCount > 3) throw new Error(`subnetLayout: ${zoneCount} zones; the layout holds 1 to 3`);
  const at = (thirdOctet: number, size: number) => formatCidr((base + thirdOctet * 256) >>> 0, size);
  const zones = Array.from({ length: zoneCount }, (_, zone) => zone);
  return [
    ...zones.map((zone) => ({ tier: "private" as const, zone, cidrBlock: at(64 * zone, 18) })),
    ...zones.map((zone) => ({ tier: "public" as const, zone, cidrBlock: at(192 + 4 * zone, 22) })),
    ...zones.map((zone) => ({ tier: "isolated" as const, zone, cidrBlock: at(208 + 4 * zone, 22) })),
  ];
}
