import * as pulumi from "@pulumi/pulumi";
import * as acm from "@pulumi/aws/acm";
import { getHostedZoneIdOutput } from "@pulumi/aws/lb/getHostedZoneId";
import * as route53 from "@pulumi/aws/route53";
import { getZoneOutput } from "@pulumi/aws/route53/getZone";
import type { StackIdentity } from "./naming";
import { assertNoProblems, type SettingProblem } from "./problems";

/**
 * DNS and certificates for every hostname the stack serves, when the stack names a Route 53
 * hosted zone (`dns.zone`): ACM certificates validated through records in that zone (the
 * frontend's in us-east-1, where CloudFront reads certificates; the API's in the stack's region,
 * where the ALB lives), then alias records for the frontend domain (to CloudFront) and the API host
 * (to the ALB the Ingress got). Two components because the order is: certificates, then the
 * distribution and the Ingress that use them, then the records that point at those.
 */

/** CloudFront reads certificates from us-east-1 only. */
const CLOUDFRONT_CERTIFICATE_REGION = "us-east-1";
/** CloudFront's fixed hosted zone for alias records (Route 53 "Values for alias records"). */
export const CLOUDFRONT_HOSTED_ZONE_ID = "Z2FDTNDATAQYW2";

/** Whether `host` is the zone's apex or a name inside it. */
export function inZone(host: string, zone: string): boolean {
  return host === zone || host.endsWith(`.${zone}`);
}

export interface CertificatesArgs {
  stack: StackIdentity;
  /** The stack's region: the API's certificate goes here, next to its load balancer. */
  region: string;
  /** The public Route 53 hosted zone, by name. @example "example.com" */
  zone: string;
  /** The frontend's custom domain (CloudFront alias); no frontend certificate when unset. */
  frontendDomain?: string;
  /** The API's public host (the Ingress host). */
  apiHost: string;
  tags: Record<string, string>;
}

/**
 * The rule config.ts and validateCertificatesArgs share: every hostname the program issues a
 * certificate for lies in the zone, where its DNS validation record and its alias can be written.
 * Keys are the stack settings' paths (`frontend.domain`, `services.ingress.host`).
 */
export function zoneProblems(zone: string, hosts: { frontendDomain?: string; apiHost?: string }): SettingProblem[] {
  const problems: SettingProblem[] = [];
  for (const [key, host] of [["frontend.domain", hosts.frontendDomain], ["services.ingress.host", hosts.apiHost]] as const) {
    if (host !== undefined && !inZone(host, zone)) problems.push({ key, got: host, expected: `a name in dns.zone (${zone})` });
  }
  return problems;
}

/** Throws a fixable message when a hostname lies outside the zone (its validation record could not be written). */
export function validateCertificatesArgs(args: CertificatesArgs): void {
  assertNoProblems("Dns", zoneProblems(args.zone, args));
}

/** DNS-validated ACM certificates; their ARNs resolve once ACM has issued them. */
export class Certificates extends pulumi.ComponentResource {
  /** The hosted zone's id. */
  public readonly zoneId: pulumi.Output<string>;
  /** The frontend's certificate (us-east-1), issued. Undefined without a frontend domain. */
  public readonly frontendCertificateArn?: pulumi.Output<string>;
  /** The API's certificate (stack region), issued. */
  public readonly apiCertificateArn: pulumi.Output<string>;

  constructor(name: string, args: CertificatesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook-platform:dns:Certificates", name, {}, opts);
    validateCertificatesArgs(args);
    const parent = { parent: this };
    const zone = getZoneOutput({ name: args.zone, privateZone: false }, parent);
    this.zoneId = zone.zoneId;

    const certificate = (role: string, domainName: string, region: string): pulumi.Output<string> => {
      const where = region === args.region ? {} : { region };
      const cert = new acm.Certificate(`${name}-${role}`, { domainName, validationMethod: "DNS", keyAlgorithm: "RSA_2048", ...where, tags: { ...args.tags, Name: domainName } }, parent);
      // One name, so one validation record; written even when a previous certificate left it in place.
      const record = new route53.Record(
        `${name}-${role}-validation`,
        {
          zoneId: this.zoneId,
          name: cert.domainValidationOptions[0].resourceRecordName,
          type: cert.domainValidationOptions[0].resourceRecordType,
          records: [cert.domainValidationOptions[0].resourceRecordValue],
          ttl: 300,
          allowOverwrite: true,
        },
        parent,
      );
      const validation = new acm.CertificateValidation(`${name}-${role}-validated`, { certificateArn: cert.arn, validationRecordFqdns: [record.fqdn], ...where }, parent);
      return validation.certificateArn;
    };
    if (args.frontendDomain !== undefined) this.frontendCertificateArn = certificate("frontend", args.frontendDomain, CLOUDFRONT_CERTIFICATE_REGION);
    this.apiCertificateArn = certificate("api", args.apiHost, args.region);
    this.registerOutputs({ zoneId: this.zoneId, frontendCertificateArn: this.frontendCertificateArn, apiCertificateArn: this.apiCertificateArn });
  }
}

export interface RecordsArgs {
  /** The hosted zone (Certificates.zoneId). */
  zoneId: pulumi.Input<string>;
  /** The stack's region: the ALB's canonical hosted zone is per region. */
  region: string;
  /** The frontend domain and its distribution; no record when unset. */
  frontend?: { domain: string; distributionDomainName: pulumi.Input<string> };
  /** The API host and the hostname of the load balancer its Ingress got (status.loadBalancer.ingress[0].hostname). */
  api: { host: string; loadBalancerHostname: pulumi.Input<string> };
}

/** Alias records: the frontend domain to CloudFront (A and AAAA), the API host to its ALB (A). */
export class Records extends pulumi.ComponentResource {
  /** Every name this component makes resolve. */
  public readonly hostnames: pulumi.Output<string[]>;

  constructor(name: string, args: RecordsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook-platform:dns:Records", name, {}, opts);
    const parent = { parent: this };
    const hostnames: string[] = [];
    if (args.frontend) {
      for (const type of ["A", "AAAA"] as const) {
        new route53.Record(
          `${name}-frontend-${type.toLowerCase()}`,
          {
            zoneId: args.zoneId,
            name: args.frontend.domain,
            type,
            aliases: [{ name: args.frontend.distributionDomainName, zoneId: CLOUDFRONT_HOSTED_ZONE_ID, evaluateTargetHealth: false }],
          },
          parent,
        );
      }
      hostnames.push(args.frontend.domain);
    }
    const albZone = getHostedZoneIdOutput({ loadBalancerType: "application", region: args.region }, parent);
    new route53.Record(
      `${name}-api-a`,
      {
        zoneId: args.zoneId,
        name: args.api.host,
        type: "A",
        // The ALB's name resolves to its current addresses; the alias follows them (and costs no queries).
        aliases: [{ name: pulumi.interpolate`dualstack.${args.api.loadBalancerHostname}`, zoneId: albZone.id, evaluateTargetHealth: true }],
      },
      parent,
    );
    hostnames.push(args.api.host);
    this.hostnames = pulumi.output(hostnames);
    this.registerOutputs({ hostnames: this.hostnames });
  }
}
