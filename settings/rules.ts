import { cacheProblems } from "../components/cache";
import { cidrsOverlap } from "../components/cluster/layout";
import { backupCopyProblems, databaseProblems } from "../components/database";
import { zoneProblems } from "../components/dns";
import { customDomainProblems } from "../components/frontend";
import type { SettingProblem } from "../components/problems";
import { replicaProblems } from "../components/services/workloads";
import { PROJECT } from "../runbook";
import type { Problem } from "./problems";
import { configSchema, SECTIONS, type Settings } from "./schema";

/**
 * Rules that relate keys to each other or to the stack's environment. A rule a component also
 * enforces on its own args is written once, in that component (`cacheProblems`, `databaseProblems`,
 * `customDomainProblems`, `zoneProblems`, `replicaProblems`), and called here under the section's path.
 */

/** Maps a component's problem to the settings path under `section` (none: the key is already a full path). */
const under =
  (section?: string) =>
  (p: SettingProblem): Problem => ({ path: section ? `${section}.${p.key}` : p.key, got: p.got, expected: p.expected });

/**
 * Every cross-key rule of a stack's settings. Each block reads one section (or one and the
 * environment) and runs only when that section parsed, so a file with schema errors still gets its
 * per-stack problems in the same error: one `pulumi up` shows every key to fix. `invalid` names the
 * sections present but malformed: the rules that read them wait for their own problem to be fixed.
 */
export function crossChecks(c: Partial<Settings>, invalid: ReadonlySet<string> = new Set()): Problem[] {
  const problems: Problem[] = [];
  const { environment, database, cache, services, frontend, image, backup, dns } = c;
  // Without a valid environment the per-environment rules wait: the environment's own problem is reported.
  const production = environment === "production";
  if (database && environment) problems.push(...databaseProblems({ environment, ...database }).map(under("database")));
  if (backup && environment) problems.push(...backupCopyProblems(environment, backup.copyTo).map(under("backup")));
  if (cache && environment) problems.push(...cacheProblems({ environment, ...cache }).map(under("cache")));
  if (services && environment) problems.push(...replicaProblems({ environment, ...services }).map(under("services")));
  // A malformed zone would make every hostname and certificate look wrong: its own problem is the one to fix.
  if (!invalid.has("dns")) problems.push(...dnsChecks(dns?.zone, frontend, services));
  problems.push(...topologyChecks(c));
  if (image) {
    if (!image.ref) {
      problems.push({
        path: "image.ref",
        got: undefined,
        expected:
          environment === "staging"
            ? "the artifact staging runs, pinned by digest (<repository>@sha256:...): production promotes exactly this"
            : "the artifact this stack runs, pinned by digest (<repository>@sha256:...); npm run promote writes it",
      });
    }
    if (image.ref && !image.ref.startsWith(`${image.repository}@`)) {
      problems.push({ path: "image.ref", got: image.ref, expected: `an image from image.repository (${image.repository})` });
    }
    if (production && !image.verifiedBy && !image.rollback) {
      problems.push({
        path: "image.verifiedBy",
        got: undefined,
        expected: `the stack whose smoke checks must have passed with image.ref (such as ${c.organization ?? "<organization>"}/${PROJECT}/staging), or image.rollback: true for a deliberate rollback`,
      });
    }
    if (production && image.smokeRecords) {
      problems.push({ path: "image.smokeRecords", got: true, expected: "unset in production (staging keeps the smoke records production's preview checks)" });
    }
  }
  if (production && c.delivery?.weeklyDrillUpdate) {
    problems.push({
      path: "delivery.weeklyDrillUpdate",
      got: true,
      expected: "unset in production (a scheduled `pulumi up` would deploy whatever main holds; production's weekly drill is AWS Backup restore testing)",
    });
  }
  return problems;
}

/**
 * The cluster and network rules: what each cluster mode needs, what it leaves unset, and a new VPC
 * that fits its subnet layout and overlaps no configured network.
 */
function topologyChecks(c: Partial<Settings>): Problem[] {
  const { environment, cluster, network, delivery } = c;
  if (!cluster) return [];
  const problems: Problem[] = [];
  const unset = (path: string, got: unknown, why: string) => problems.push({ path, got, expected: `unset with cluster.mode ${cluster.mode} (${why})` });
  if (cluster.mode === "existing") {
    if (!cluster.name) problems.push({ path: "cluster.name", got: undefined, expected: "the name of the EKS cluster to look up (cluster.mode existing)" });
    for (const key of ["version", "publicAccessCidrs", "nodeGroup"] as const) {
      if (cluster[key] !== undefined) unset(`cluster.${key}`, cluster[key], "it configures a cluster this stack creates");
    }
    if (cluster.adminRoleArns.length > 0) unset("cluster.adminRoleArns", cluster.adminRoleArns, "access to an existing cluster is granted by its owners");
    if (network?.vpcCidr !== undefined) unset("network.vpcCidr", network.vpcCidr, "the VPC is the existing cluster's, looked up; network.dataSubnetIds picks its data-tier subnets");
    if (network?.availabilityZoneCount !== undefined) unset("network.availabilityZoneCount", network.availabilityZoneCount, "the zones are the existing VPC's");
    if (network && network.reservedCidrs.length > 0) unset("network.reservedCidrs", network.reservedCidrs, "they are checked only against a VPC this stack creates");
    return problems;
  }
  if (cluster.version === undefined) problems.push({ path: "cluster.version", got: undefined, expected: 'the new cluster\'s Kubernetes version, such as "1.33"' });
  if (cluster.publicAccessCidrs === undefined) {
    problems.push({ path: "cluster.publicAccessCidrs", got: undefined, expected: "the CIDRs allowed to the public API endpoint (your VPN's, your CI's), or [] for a private endpoint only" });
  } else {
    const open = cluster.publicAccessCidrs.find((range) => range.endsWith("/0"));
    if (open && environment === "production") {
      problems.push({ path: "cluster.publicAccessCidrs", got: open, expected: "ranges narrower than /0 in production (the API endpoint is never open to the world), or [] for a private endpoint only" });
    }
  }
  if (!cluster.nodeGroup) {
    problems.push({ path: "cluster.nodeGroup", got: undefined, expected: "the managed node group: { instanceTypes, minSize, desiredSize, maxSize }" });
  } else {
    const { minSize, desiredSize, maxSize } = cluster.nodeGroup;
    if (maxSize < minSize) {
      problems.push({ path: "cluster.nodeGroup.maxSize", got: maxSize, expected: `at least cluster.nodeGroup.minSize (${minSize})` });
    } else if (desiredSize < minSize || desiredSize > maxSize) {
      problems.push({ path: "cluster.nodeGroup.desiredSize", got: desiredSize, expected: `from cluster.nodeGroup.minSize (${minSize}) to maxSize (${maxSize})` });
    }
  }
  if (delivery && !delivery.awsRoleArn && cluster.adminRoleArns.length === 0) {
    problems.push({ path: "cluster.adminRoleArns", got: [], expected: "at least one role, or delivery.awsRoleArn: a new cluster grants access only through EKS access entries" });
  }
  if (!network) return problems;
  if (network.dataSubnetIds !== undefined) unset("network.dataSubnetIds", network.dataSubnetIds, "the data tier gets the new VPC's isolated subnets");
  if (network.availabilityZoneCount === undefined) problems.push({ path: "network.availabilityZoneCount", got: undefined, expected: "2 or 3: the zones the new VPC spans" });
  if (network.vpcCidr === undefined) {
    problems.push({ path: "network.vpcCidr", got: undefined, expected: "the new VPC's range (cluster.mode create), a /16 such as 10.40.0.0/16" });
  } else if (Number(network.vpcCidr.split("/")[1]) > 16) {
    problems.push({ path: "network.vpcCidr", got: network.vpcCidr, expected: "a /16 or larger (private /18s, public and isolated /22s per zone)" });
  } else {
    const overlapping = network.reservedCidrs.find((range) => cidrsOverlap(range, network.vpcCidr as string));
    if (overlapping) {
      problems.push({ path: "network.vpcCidr", got: network.vpcCidr, expected: `a range that does not overlap ${overlapping} of network.reservedCidrs (peered and on-premises networks must stay routable)` });
    }
  }
  return problems;
}

/**
 * "Every hostname resolves": with dns.zone the program issues both certificates and writes the
 * records, so the hostnames must lie in the zone (components/dns.ts's rule) and the hand-made
 * certificate ARNs must go; without it the certificates come from config.
 */
function dnsChecks(zone: string | undefined, frontend: Settings["frontend"] | undefined, services: Settings["services"] | undefined): Problem[] {
  if (zone === undefined) {
    const problems = frontend ? customDomainProblems(frontend).map(under("frontend")) : [];
    if (services && !services.ingress.certificateArn) {
      problems.push({ path: "services.ingress.certificateArn", got: undefined, expected: "an ACM certificate ARN in the stack's region, or set dns.zone and the program issues it" });
    }
    return problems;
  }
  const problems = zoneProblems(zone, { frontendDomain: frontend?.domain, apiHost: services?.ingress.host }).map(under());
  const issued = "unset when dns.zone is set (the program issues the certificate)";
  if (frontend?.certificateArn) problems.push({ path: "frontend.certificateArn", got: frontend.certificateArn, expected: issued });
  if (services?.ingress.certificateArn) problems.push({ path: "services.ingress.certificateArn", got: services.ingress.certificateArn, expected: issued });
  return problems;
}

/**
 * The sections that are valid on their own, parsed (defaults applied), for the cross checks, and
 * the sections present but invalid (a rule that reads one waits: its own problem is reported).
 */
export function validSections(raw: Record<string, unknown>): { valid: Partial<Settings>; invalid: ReadonlySet<string> } {
  const valid: Partial<Record<keyof Settings, unknown>> = {};
  const invalid = new Set<string>();
  for (const section of SECTIONS) {
    const parsed = configSchema.shape[section].safeParse(raw[section]);
    if (parsed.success) valid[section] = parsed.data;
    else invalid.add(section);
  }
  return { valid: valid as Partial<Settings>, invalid };
}
