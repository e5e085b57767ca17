import { beforeAll, describe, expect, it } from "vitest";
import { CLOUDFRONT_HOSTED_ZONE_ID, inZone, validateCertificatesArgs, type CertificatesArgs } from "../../components/dns";
import { parseConfig } from "../../config";
import { shippedStack } from "../../components/naming";
import { ofType, one, readStackFile, runProgram, type ProgramResult, type RecordedResource } from "../support/harness";

/**
 * Every hostname resolves and has its certificate: with `dns.zone` (production) the program issues
 * DNS-validated certificates and writes alias records; without it (staging) the certificates come
 * from config and nothing is written to Route 53.
 */

const RECORD = "aws:route53/record:Record";
let production: ProgramResult;
let staging: ProgramResult;
beforeAll(async () => {
  production = await runProgram({ stack: "production" });
  staging = await runProgram({ stack: "staging" });
});

const aliasesOf = (r: RecordedResource) => r.inputs.aliases as { name: string; zoneId: string; evaluateTargetHealth: boolean }[] | undefined;

describe("production (dns.zone example.com)", () => {
  it("issues the frontend's certificate in us-east-1 and the API's in the stack's region, each validated by a record in the zone", () => {
    const certificates = ofType(production, "aws:acm/certificate:Certificate").sort((a, b) => b.name.localeCompare(a.name));
    expect(certificates.map((c) => [c.name, c.inputs.domainName, c.inputs.validationMethod, c.inputs.region ?? "stack region"])).toEqual([
      ["dns-certificates-frontend", "app.example.com", "DNS", "us-east-1"],
      ["dns-certificates-api", "api.example.com", "DNS", "stack region"],
    ]);
    for (const role of ["frontend", "api"]) {
      const record = one(production, RECORD, `dns-certificates-${role}-validation`);
      expect(record.inputs).toMatchObject({ type: "CNAME", ttl: 300, allowOverwrite: true });
      expect(String(record.inputs.name)).toMatch(role === "api" ? /^_[0-9a-f]{32}\.api\.example\.com\.$/ : /^_[0-9a-f]{32}\.app\.example\.com\.$/);
      const validation = one(production, "aws:acm/certificateValidation:CertificateValidation", `dns-certificates-${role}-validated`);
      expect(validation.inputs.validationRecordFqdns).toEqual([String(record.inputs.name).replace(/\.$/, "")]);
    }
  });

  it("serves each hostname with the certificate issued for it", () => {
    const validated = (role: string) => String(one(production, "aws:acm/certificateValidation:CertificateValidation", `dns-certificates-${role}-validated`).inputs.certificateArn);
    expect(validated("frontend")).toMatch(/^arn:aws:acm:us-east-1:/);
    const distribution = one(production, "aws:cloudfront/distribution:Distribution");
    expect(distribution.inputs.viewerCertificate).toEqual({ acmCertificateArn: validated("frontend"), sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1.2_2021" });
    const ingress = one(production, "kubernetes:networking.k8s.io/v1:Ingress");
    expect((ingress.inputs.metadata as { annotations: Record<string, string> }).annotations["alb.ingress.kubernetes.io/certificate-arn"]).toBe(validated("api"));
  });

  it("points the frontend domain at CloudFront and the API host at the ALB its Ingress got", () => {
    const records = ofType(production, RECORD)
      .filter((r) => r.parentName === "dns-records")
      .sort((a, b) => String(b.inputs.name).localeCompare(String(a.inputs.name)) || String(a.inputs.type).localeCompare(String(b.inputs.type)));
    const distributionDomain = String(production.outputs.frontendDistributionDomain);
    expect(records.map((r) => [r.inputs.name, r.inputs.type])).toEqual([
      ["app.example.com", "A"],
      ["app.example.com", "AAAA"],
      ["api.example.com", "A"],
    ]);
    for (const r of records.slice(0, 2)) expect(aliasesOf(r)).toEqual([{ name: distributionDomain, zoneId: CLOUDFRONT_HOSTED_ZONE_ID, evaluateTargetHealth: false }]);
    const api = aliasesOf(records[2] as RecordedResource)?.[0];
    expect(api?.name).toMatch(/^dualstack\.k8s-runbook-api-[0-9a-f]{8}-1234567890\.eu-west-1\.elb\.amazonaws\.com$/);
    expect(api?.zoneId).toBe("Z32O12XQLNTSW2");
    expect(api?.evaluateTargetHealth).toBe(true);
  });

  it("gives every hostname the health check, the Ingress and the distribution use a record", () => {
    const named = new Set(ofType(production, RECORD).map((r) => String(r.inputs.name)));
    const hostnames = [
      String(one(production, "aws:route53/healthCheck:HealthCheck").inputs.fqdn),
      ...((one(production, "kubernetes:networking.k8s.io/v1:Ingress").inputs.spec as { rules: { host: string }[] }).rules.map((r) => r.host)),
      ...(one(production, "aws:cloudfront/distribution:Distribution").inputs.aliases as string[]),
    ];
    expect(hostnames.sort()).toEqual(["api.example.com", "api.example.com", "app.example.com"]);
    for (const host of hostnames) expect(named, `${host} has no record`).toContain(host);
    const zoneIds = new Set(ofType(production, RECORD).map((r) => String(r.inputs.zoneId)));
    expect(zoneIds.size).toBe(1);
  });
});

describe("staging (no dns.zone)", () => {
  it("writes no record and issues no certificate; the API's certificate comes from config", () => {
    expect(ofType(staging, RECORD)).toEqual([]);
    expect(ofType(staging, "aws:acm/certificate:Certificate")).toEqual([]);
    const services = readStackFile("staging")["runbook-platform:services"] as { ingress: { certificateArn: string } };
    const ingress = one(staging, "kubernetes:networking.k8s.io/v1:Ingress");
    expect((ingress.inputs.metadata as { annotations: Record<string, string> }).annotations["alb.ingress.kubernetes.io/certificate-arn"]).toBe(services.ingress.certificateArn);
  });
});

describe("validation", () => {
  const args: CertificatesArgs = { stack: shippedStack("production"), region: "eu-west-1", zone: "example.com", frontendDomain: "app.example.com", apiHost: "api.example.com", tags: {} };

  it("accepts names in the zone and its apex, refuses others", () => {
    expect(inZone("example.com", "example.com")).toBe(true);
    expect(inZone("notexample.com", "example.com")).toBe(false);
    expect(() => validateCertificatesArgs(args)).not.toThrow();
    expect(() => validateCertificatesArgs({ ...args, apiHost: "api.example.org" })).toThrow('Dns: services.ingress.host is "api.example.org"; expected a name in dns.zone (example.com).');
  });

  it("asks for the hand-made certificate ARNs to go when the program issues them, and for the API's when it does not", () => {
    const raw = (stack: "staging" | "production") =>
      Object.fromEntries(Object.entries(readStackFile(stack)).filter(([k]) => k.startsWith("runbook-platform:")).map(([k, v]) => [k.slice("runbook-platform:".length), v]));
    const prod = raw("production");
    const withArns = {
      ...prod,
      frontend: { ...(prod.frontend as object), certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/66666666-7777-8888-9999-000000000000" },
    };
    expect(() => parseConfig("production", withArns)).toThrow(/runbook-platform:frontend\.certificateArn: got "arn:aws:acm:us-east-1:[^;]*; expected unset when dns\.zone is set/);
    expect(() => parseConfig("production", { ...prod, dns: { zone: "example.org" } })).toThrow("runbook-platform:services.ingress.host: got \"api.example.com\"; expected a name in dns.zone (example.org)");
    const stage = raw("staging");
    const services = stage.services as { ingress: Record<string, unknown> };
    expect(() => parseConfig("staging", { ...stage, services: { ...services, ingress: { host: services.ingress.host } } })).toThrow(
      "runbook-platform:services.ingress.certificateArn: got nothing (the key is missing); expected an ACM certificate ARN in the stack's region, or set dns.zone",
    );
  });
});
