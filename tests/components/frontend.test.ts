import { beforeAll, describe, expect, it } from "vitest";
import {
  ASSETS_CACHE_CODE,
  ASSETS_CACHE_CONTROL,
  DOCUMENT_CACHE_CONTROL,
  SPA_ROUTING_CODE,
  type FrontendArgs,
  HSTS_MAX_AGE_SECONDS,
  validateFrontendArgs,
} from "../../components/frontend";
import { ACCOUNT_ID, one, ofType, type ProgramResult, ProgramError, type RecordedResource, runProgram, stackConfig } from "../support/harness";
import type { StackName } from "../../runbook";
import { shippedStack } from "../../components/naming";

const CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6";
const CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";

interface FrontendSettings {
  domain?: string;
  certificateArn?: string;
  priceClass: string;
  contentSecurityPolicy: string;
  webAclArn?: string;
  accessLogRetentionDays: number;
}
const settings = (stack: StackName) => JSON.parse(stackConfig(stack)["runbook-platform:frontend"] as string) as FrontendSettings;

const validArgs: FrontendArgs = {
  stack: shippedStack("production"),
  domain: "app.example.com",
  certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/66666666-7777-8888-9999-000000000000",
  priceClass: "PriceClass_All",
  contentSecurityPolicy: "default-src 'self'; frame-ancestors 'none'",
  accessLogRetentionDays: 30,
  tags: {},
};

describe("validateFrontendArgs", () => {
  it("accepts a domain with its us-east-1 certificate, and neither", () => {
    expect(() => validateFrontendArgs(validArgs)).not.toThrow();
    expect(() => validateFrontendArgs({ ...validArgs, domain: undefined, certificateArn: undefined })).not.toThrow();
  });
  it("refuses a domain without a certificate and the reverse", () => {
    expect(() => validateFrontendArgs({ ...validArgs, certificateArn: undefined })).toThrow(
      "Frontend: certificateArn is not set; expected domain and certificateArn set together (a custom domain needs its us-east-1 certificate).",
    );
    expect(() => validateFrontendArgs({ ...validArgs, domain: undefined })).toThrow("Frontend: domain is not set; expected domain and certificateArn set together");
  });
  it("refuses a certificate outside us-east-1", () => {
    expect(() => validateFrontendArgs({ ...validArgs, certificateArn: String(validArgs.certificateArn).replace("us-east-1", "eu-west-1") })).toThrow(
      /^Frontend: certificateArn is "arn:aws:acm:eu-west-1:[^"]+"; expected a certificate in us-east-1 \(CloudFront only uses certificates from us-east-1\)\.$/,
    );
  });
  it("refuses a CSP without frame-ancestors and a retention below one day", () => {
    expect(() => validateFrontendArgs({ ...validArgs, contentSecurityPolicy: "default-src 'self'" })).toThrow("contentSecurityPolicy has no frame-ancestors directive");
    expect(() => validateFrontendArgs({ ...validArgs, accessLogRetentionDays: 0 })).toThrow("accessLogRetentionDays is 0");
  });
});

describe.each(["staging", "production"] as const)("Frontend in %s", (stack) => {
  let result: ProgramResult;
  let distribution: RecordedResource;
  const config = settings(stack);
  const bucketNamed = (name: string) => one(result, "aws:s3/bucket:Bucket", name);
  const policyOf = (name: string) => JSON.parse(one(result, "aws:s3/bucketPolicy:BucketPolicy", name).inputs.policy as string) as { Statement: Record<string, unknown>[] };

  beforeAll(async () => {
    result = await runProgram({ stack });
    distribution = one(result, "aws:cloudfront/distribution:Distribution");
  });

  it("keeps both buckets private: public access blocked, ACLs disabled, SSE-S3", () => {
    for (const bucket of ["frontend-site", "frontend-logs"]) {
      expect(bucketNamed(bucket).inputs.bucketPrefix).toBe(`runbook-${stack}-frontend${bucket === "frontend-logs" ? "-logs" : ""}-`);
      expect(one(result, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", `${bucket}-public-access`).inputs).toMatchObject({
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      });
      expect(one(result, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", `${bucket}-ownership`).inputs.rule).toEqual({ objectOwnership: "BucketOwnerEnforced" });
      expect(one(result, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", `${bucket}-encryption`).inputs.rules).toEqual([
        { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
      ]);
    }
    expect(one(result, "aws:s3/bucketVersioning:BucketVersioning", "frontend-site-versioning").inputs.versioningConfiguration).toEqual({ status: "Enabled" });
  });

  it("reads the bucket through Origin Access Control, never the legacy OAI", () => {
    const oac = one(result, "aws:cloudfront/originAccessControl:OriginAccessControl");
    expect(oac.inputs).toMatchObject({ originAccessControlOriginType: "s3", signingBehavior: "always", signingProtocol: "sigv4", name: `runbook-${stack}-frontend` });
    expect(ofType(result, "aws:cloudfront/originAccessIdentity:OriginAccessIdentity")).toEqual([]);
    const bucket = result.outputs.frontendBucketName as string;
    expect(distribution.inputs.origins).toEqual([{ originId: "site", domainName: `${bucket}.s3.eu-west-1.amazonaws.com`, originAccessControlId: expect.any(String) }]);
  });

  it("admits only this distribution to the site bucket, and only over TLS", () => {
    const bucket = result.outputs.frontendBucketName as string;
    const distributionArn = `arn:aws:cloudfront::${ACCOUNT_ID}:distribution/${String(result.outputs.frontendDistributionId)}`;
    expect(policyOf("frontend-site-policy").Statement).toEqual([
      {
        Sid: "AllowThisDistributionOnly",
        Effect: "Allow",
        Principal: { Service: "cloudfront.amazonaws.com" },
        Action: "s3:GetObject",
        Resource: `arn:aws:s3:::${bucket}/*`,
        Condition: { StringEquals: { "AWS:SourceArn": distributionArn } },
      },
      {
        Sid: "AllowThisDistributionToSeeMissingKeys",
        Effect: "Allow",
        Principal: { Service: "cloudfront.amazonaws.com" },
        Action: "s3:ListBucket",
        Resource: `arn:aws:s3:::${bucket}`,
        Condition: { StringEquals: { "AWS:SourceArn": distributionArn } },
      },
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ]);
  });

  it("redirects to HTTPS, compresses, and caches hashed assets long and index.html never", () => {
    const common = { targetOriginId: "site", viewerProtocolPolicy: "redirect-to-https", allowedMethods: ["GET", "HEAD", "OPTIONS"], cachedMethods: ["GET", "HEAD"], compress: true };
    expect(distribution.inputs.defaultCacheBehavior).toMatchObject({ ...common, cachePolicyId: CACHING_DISABLED });
    expect(distribution.inputs.orderedCacheBehaviors).toMatchObject([{ ...common, pathPattern: "/assets/*", cachePolicyId: CACHING_OPTIMIZED }]);
    expect(distribution.inputs.defaultRootObject).toBe("index.html");
  });

  it("routes client-side routes to /index.html by a viewer-request function, with no distribution-wide error rewrite", () => {
    expect(distribution.inputs.customErrorResponses ?? []).toEqual([]);
    const functions = ofType(result, "aws:cloudfront/function:Function");
    const arnOf = (name: string) => `arn:aws:cloudfront:eu-west-1:${ACCOUNT_ID}:function/runbook-${stack}-frontend-${name}`;
    expect(functions.map((f) => [f.name, f.inputs.runtime, f.inputs.name])).toEqual([
      ["frontend-spa-routing", "cloudfront-js-2.0", `runbook-${stack}-frontend-spa-routing`],
      ["frontend-assets-cache", "cloudfront-js-2.0", `runbook-${stack}-frontend-assets-cache`],
    ]);
    const [document, assets] = [distribution.inputs.defaultCacheBehavior, ...(distribution.inputs.orderedCacheBehaviors as unknown[])] as { functionAssociations: unknown[] }[];
    expect(document?.functionAssociations).toEqual([{ eventType: "viewer-request", functionArn: arnOf("spa-routing") }]);
    expect(assets?.functionAssociations).toEqual([{ eventType: "viewer-response", functionArn: arnOf("assets-cache") }]);
    expect(one(result, "aws:cloudfront/function:Function", "frontend-spa-routing").inputs.code).toBe(SPA_ROUTING_CODE);
  });

  it("never puts the assets' year-long Cache-Control on a response from their headers policy", () => {
    const policy = one(result, "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", "frontend-assets-headers");
    expect(policy.inputs.customHeadersConfig).toBeUndefined();
    expect(one(result, "aws:cloudfront/function:Function", "frontend-assets-cache").inputs.code).toBe(ASSETS_CACHE_CODE);
  });

  it("sends HSTS, nosniff, DENY framing, a referrer policy and the configured CSP with every response", () => {
    const policies = ofType(result, "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy");
    expect(policies.map((p) => p.name).sort()).toEqual(["frontend-assets-headers", "frontend-document-headers"]);
    for (const role of ["document", "assets"] as const) {
      const policy = one(result, "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", `frontend-${role}-headers`);
      expect(policy.inputs.securityHeadersConfig).toEqual({
        strictTransportSecurity: { accessControlMaxAgeSec: HSTS_MAX_AGE_SECONDS, includeSubdomains: true, preload: false, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: "DENY", override: true },
        referrerPolicy: { referrerPolicy: "strict-origin-when-cross-origin", override: true },
        contentSecurityPolicy: { contentSecurityPolicy: config.contentSecurityPolicy, override: true },
      });
    }
    expect(one(result, "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", "frontend-document-headers").inputs.customHeadersConfig).toEqual({
      items: [{ header: "Cache-Control", value: DOCUMENT_CACHE_CONTROL, override: true }],
    });
    expect(config.contentSecurityPolicy).toContain("frame-ancestors 'none'");
    // Swapped, index.html would be cached for a year (immutable) and every deploy would go unseen.
    const [document, assets] = [distribution.inputs.defaultCacheBehavior, ...(distribution.inputs.orderedCacheBehaviors as unknown[])] as { responseHeadersPolicyId: string }[];
    expect(document?.responseHeadersPolicyId).toMatch(/^frontend-document-headers-[0-9a-f]{8}$/);
    expect(assets?.responseHeadersPolicyId).toMatch(/^frontend-assets-headers-[0-9a-f]{8}$/);
  });

  it("delivers access logs (standard logging v2, from us-east-1) to the log bucket and expires them per stack", () => {
    expect(one(result, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "frontend-logs-lifecycle").inputs.rules).toEqual([
      { id: "expire-access-logs", status: "Enabled", filter: {}, expiration: { days: config.accessLogRetentionDays }, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } },
    ]);
    const source = one(result, "aws:cloudwatch/logDeliverySource:LogDeliverySource");
    const distributionArn = `arn:aws:cloudfront::${ACCOUNT_ID}:distribution/${String(result.outputs.frontendDistributionId)}`;
    expect(source.inputs).toMatchObject({ region: "us-east-1", name: `runbook-${stack}-frontend-access`, logType: "ACCESS_LOGS", resourceArn: distributionArn });
    const logBucket = bucketNamed("frontend-logs");
    const logBucketName = String(logBucket.inputs.bucketPrefix);
    const destination = one(result, "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination");
    expect(destination.inputs).toMatchObject({ region: "us-east-1", outputFormat: "w3c" });
    expect((destination.inputs.deliveryDestinationConfiguration as { destinationResourceArn: string }).destinationResourceArn).toMatch(
      new RegExp(`^arn:aws:s3:::frontend-logs-[0-9a-f]{8}$`),
    );
    expect(one(result, "aws:cloudwatch/logDelivery:LogDelivery").inputs).toMatchObject({
      region: "us-east-1",
      deliverySourceName: `runbook-${stack}-frontend-access`,
      s3DeliveryConfigurations: [{ suffixPath: "cloudfront/{DistributionId}/{yyyy}/{MM}/{dd}/{HH}", enableHiveCompatiblePath: false }],
    });
    expect(logBucketName).toBe(`runbook-${stack}-frontend-logs-`);
    const [delivery] = policyOf("frontend-logs-policy").Statement;
    expect(delivery).toMatchObject({
      Principal: { Service: "delivery.logs.amazonaws.com" },
      Action: "s3:PutObject",
      Condition: {
        StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceAccount": ACCOUNT_ID },
        ArnLike: { "aws:SourceArn": `arn:aws:logs:us-east-1:${ACCOUNT_ID}:delivery-source:runbook-${stack}-frontend-access` },
      },
    });
  });

  it("exports the distribution domain and id (for invalidations) and the bucket name", () => {
    expect(result.outputs.frontendDistributionId).toMatch(/^E[0-9A-F]{13}$/);
    expect(result.outputs.frontendDistributionDomain).toMatch(/^d[0-9a-f]{13}\.cloudfront\.net$/);
    expect(result.outputs.frontendBucketName).toMatch(/^frontend-site-[0-9a-f]{8}$/);
  });

  it("names every child after its parent", () => {
    const children = result.resources.filter((r) => r.parentName === "frontend");
    expect(children.length).toBeGreaterThan(15);
    expect(children.filter((r) => !r.name.startsWith("frontend-"))).toEqual([]);
  });
});

describe("what differs between staging and production", () => {
  it("staging: the CloudFront domain and default certificate, PriceClass_100, no WAF, 30 days of logs", async () => {
    const result = await runProgram({ stack: "staging" });
    const distribution = one(result, "aws:cloudfront/distribution:Distribution");
    expect(distribution.inputs.viewerCertificate).toEqual({ cloudfrontDefaultCertificate: true });
    expect(distribution.inputs.aliases).toEqual([]);
    expect(distribution.inputs.priceClass).toBe("PriceClass_100");
    expect(distribution.inputs.webAclId).toBeUndefined();
    expect(result.outputs.frontendUrl).toBe(`https://${String(result.outputs.frontendDistributionDomain)}`);
    expect(settings("staging").accessLogRetentionDays).toBe(30);
  });

  it("production: its domain on the us-east-1 certificate with TLSv1.2_2021, PriceClass_All, the WAF, 365 days of logs", async () => {
    const result = await runProgram({ stack: "production" });
    const distribution = one(result, "aws:cloudfront/distribution:Distribution");
    // dns.zone is set: the certificate is the one the program issued and validated in us-east-1.
    expect(distribution.inputs.viewerCertificate).toEqual({
      acmCertificateArn: one(result, "aws:acm/certificateValidation:CertificateValidation", "dns-certificates-frontend-validated").inputs.certificateArn,
      sslSupportMethod: "sni-only",
      minimumProtocolVersion: "TLSv1.2_2021",
    });
    expect(distribution.inputs.aliases).toEqual(["app.example.com"]);
    expect(distribution.inputs.priceClass).toBe("PriceClass_All");
    expect(distribution.inputs.webAclId).toBe("arn:aws:wafv2:us-east-1:123456789012:global/webacl/runbook-frontend/a1b2c3d4-e5f6-7890-abcd-ef1234567890");
    expect(result.outputs.frontendUrl).toBe("https://app.example.com");
    expect(settings("production").accessLogRetentionDays).toBe(365);
  });
});

describe("bad frontend settings fail before anything is registered", () => {
  const refused = async (stack: StackName, frontend: Record<string, unknown>): Promise<ProgramError> => {
    const error = await runProgram({ stack, config: { frontend } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProgramError);
    const programError = error as ProgramError;
    expect(programError.resources).toEqual([]);
    return programError;
  };

  it("a domain without a certificate", async () => {
    const error = await refused("staging", { domain: "app.staging.example.com" });
    expect(error.message).toContain("runbook-platform:frontend.certificateArn: got nothing (the key is missing); expected domain and certificateArn set together (a custom domain needs its us-east-1 certificate)");
  });
  it("a certificate without a domain", async () => {
    const error = await refused("staging", { certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/66666666-7777-8888-9999-000000000000" });
    expect(error.message).toContain("runbook-platform:frontend.domain: got nothing (the key is missing); expected domain and certificateArn set together (a custom domain needs its us-east-1 certificate)");
  });
  it("a certificate outside us-east-1", async () => {
    const error = await refused("staging", { domain: "app.staging.example.com", certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/66666666-7777-8888-9999-000000000000" });
    expect(error.message).toContain("expected a certificate in us-east-1 (CloudFront only uses certificates from us-east-1)");
  });
  it("a CSP without frame-ancestors", async () => {
    const error = await refused("staging", { contentSecurityPolicy: "default-src 'self'; base-uri 'self'" });
    expect(error.message).toContain("runbook-platform:frontend.contentSecurityPolicy");
    expect(error.message).toContain("with a frame-ancestors directive");
  });
});

/** Loads CloudFront Function code the way the cloudfront-js runtime calls it: a top-level `handler(event)`. */
function edgeHandler<E, R>(code: string): (event: E) => R {
  return new Function(`${code}\nreturn handler;`)() as (event: E) => R;
}

describe("SPA routing and asset caching at the edge (the functions' real code)", () => {
  const route = edgeHandler<{ request: { uri: string } }, { uri: string }>(SPA_ROUTING_CODE);
  const cache = edgeHandler<{ response: { statusCode: number; headers: Record<string, { value: string }> } }, { headers: Record<string, { value: string }> }>(ASSETS_CACHE_CODE);

  it.each([
    ["/", "/index.html"],
    ["/orders", "/index.html"],
    ["/orders/42/", "/index.html"],
    ["/settings/profile", "/index.html"],
    ["/index.html", "/index.html"],
    ["/robots.txt", "/robots.txt"],
    ["/favicon.ico", "/favicon.ico"],
    ["/missing.js", "/missing.js"],
  ])("sends %s to S3 as %s", (uri, expected) => {
    expect(route({ request: { uri } }).uri).toBe(expected);
  });

  it("puts the immutable Cache-Control on assets that exist and never on an error", () => {
    for (const statusCode of [200, 206, 304]) {
      expect(cache({ response: { statusCode, headers: {} } }).headers["cache-control"]).toEqual({ value: ASSETS_CACHE_CONTROL });
    }
    for (const statusCode of [403, 404, 500]) expect(cache({ response: { statusCode, headers: {} } }).headers["cache-control"]).toBeUndefined();
  });
});
