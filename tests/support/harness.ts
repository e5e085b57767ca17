import { createHash } from "node:crypto";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ARTIFACT_OUTPUT, SMOKE_RECORD_PREFIX, VERIFIED_OUTPUT } from "../../ops/promotion/artifact";
import { PROJECT } from "../../config";
import { listStacks, readSettingsFile, readStackFile as readStackFileAt } from "../../stackFiles";
import { type AwsWorld, clusterResourceState, defaultWorld, lookupInvoke } from "./awsWorld";

/**
 * Runs the real program (index.ts) for one stack under Pulumi's mock runtime and records every
 * resource it registers. The component tests, the policy tests and the offline preview all use it.
 */

export const ROOT = path.resolve(__dirname, "../..");
export const ACCOUNT_ID = "123456789012";

/** One registered resource, as the engine would receive it. */
export interface RecordedResource {
  /** Type token, e.g. `aws:rds/instance:Instance` or `runbook-platform:data:Database`. */
  type: string;
  /** Logical name. */
  name: string;
  urn: string;
  /** The parent's URN, or undefined for a resource at the stack's root. */
  parent: string | undefined;
  /** The parent's logical name, for readable assertions. */
  parentName: string | undefined;
  custom: boolean;
  /** Inputs with secrets unwrapped; `secretPaths` says which values were secret. */
  inputs: Record<string, unknown>;
  /** Dotted paths (e.g. `authToken`, `stringData.DATABASE_URL`) of inputs that reached the engine as secrets. */
  secretPaths: string[];
  /** The provider reference (`urn::id`), when one was set explicitly. */
  provider: string | undefined;
  /**
   * URNs each input depends on (`bucket` -> the Bucket's URN), as the engine hands them to
   * CrossGuard's stack policies (`PolicyResource.propertyDependencies`).
   */
  propertyDependencies?: Record<string, string[]>;
  /** The resource options the engine received with the registration (protect, retainOnDelete, ...). */
  options: RecordedOptions;
}

/**
 * The options of one registration, read from the RegisterResource request the engine receives (the
 * Mocks interface never sees them). Only what was set: a default (false, empty) is left out, so the
 * plan JSON stays short and `toEqual` on it says exactly which options a resource has.
 */
export interface RecordedOptions {
  /** `pulumi destroy` and any replacement stop at this resource. */
  protect?: true;
  /** Deleting the resource from the stack leaves it in the cloud. */
  retainOnDelete?: true;
  /** A replacement deletes the old resource before creating the new one. */
  deleteBeforeReplace?: true;
  /** Input properties whose drift Pulumi leaves alone. */
  ignoreChanges?: string[];
  /**
   * URNs of explicit dependencies: the request's dependencies that no input property accounts for
   * (the engine receives both in one list).
   */
  dependsOn?: string[];
  /** Former URNs, or alias specs (`{ type, parenturn }`), of the resource. */
  aliases?: unknown[];
  /** The explicit provider reference (`urn::id`). */
  provider?: string;
}

export interface ProgramResult {
  /** The stack's name: a shipped stack (staging, production) or any other, such as dev. */
  stack: string;
  resources: RecordedResource[];
  outputs: Record<string, unknown>;
  /** Names of stack outputs that are secrets. */
  secretOutputs: string[];
}

/** Config overrides: a section object is merged key by key onto the stack file's; `null` deletes. */
export type ConfigOverrides = Record<string, unknown>;

export interface RunOptions {
  /** The stack's name: a shipped stack (staging, production) or any other, such as dev. */
  stack: string;
  /** Overrides merged onto `Pulumi.<stack>.yaml`, keyed without the project prefix (`database`). */
  config?: ConfigOverrides;
  /** The stack file the settings start from, for a stack without a file of its own (`dev`). @default Pulumi.<stack>.yaml */
  stackFile?: string;
  /** Secret settings, keyed without the project prefix (`kubeconfig`, `githubToken`, ...). */
  secrets?: Record<string, string>;
  /**
   * Outputs the mocked StackReference returns, keyed by referenced stack name.
   * @default each referenced stack as its file here pins it: running, and verified by its smoke checks, with its image.ref
   */
  stackReferences?: Record<string, Record<string, unknown>>;
  /** The AWS account the lookups (getCluster, getSubnets...) read; default: defaultWorld(). */
  world?: AwsWorld;
  /**
   * Object keys the staging smoke workflow has written to the promotion-records bucket.
   * @default one record per artifact a staging-environment stack file here pins (each passed)
   */
  smokeRecordKeys?: string[];
}

/** Raised when the program fails; carries what was registered before the failure. */
export class ProgramError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly resources: RecordedResource[],
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = "ProgramError";
  }
}

/** The artifact a stack's settings pin (`image.ref`), when it is a string. */
function pinOf(config: Record<string, unknown>): string | undefined {
  const image = config[`${PROJECT}:image`];
  return isPlainObject(image) && typeof image.ref === "string" ? image.ref : undefined;
}

/** The artifact a stack file here pins (`image.ref`); undefined when the stack has no file or pins none. */
function pinnedArtifact(stack: string): string | undefined {
  return listStacks().includes(stack) ? pinOf(readStackFile(stack)) : undefined;
}

/** What the program's StackReferences read offline, and why a named stack could not be read. */
interface OfflineReferences {
  /** Outputs by fully qualified stack name; `{}` for a stack that could not be read. */
  outputs: Record<string, Record<string, unknown>>;
  /** Why each unreadable stack could not be read, with the fix. */
  unreadable: Map<string, string>;
}

/**
 * Offline, the stack `image.verifiedBy` names (`<organization>/<project>/<stack>`) is answered from
 * its file here, the way the program itself would have exported it: `imageRef` is its pin, and
 * `verifiedImageRefs` lists that pin only when the stack keeps smoke records (`image.smokeRecords`),
 * as only such a stack runs the smoke workflow. A stack of another organization or project, or
 * without a readable file here, reads as a stack with no outputs: the program's own check then
 * refuses the artifact, and `unreadable` says why. Nothing here throws, so the program's config
 * check speaks first about a malformed image section.
 */
function offlineReferences(config: Record<string, string>): OfflineReferences {
  const references: OfflineReferences = { outputs: {}, unreadable: new Map() };
  const image = parsedSection(config[`${PROJECT}:image`]);
  const name = image?.verifiedBy;
  if (typeof name !== "string") return references;
  const [organization, project, stack = ""] = name.split("/");
  const why = (reason: string) => {
    references.outputs[name] = {};
    references.unreadable.set(name, `${reason}; name a stack that has a file here (${listStacks().join(", ")})`);
    return references;
  };
  if (project !== PROJECT) return why(`offline, the preview reads only this project's stacks (${PROJECT}), not ${project ?? name}`);
  if (!listStacks().includes(stack)) return why(`offline, the preview reads what ${name} runs from Pulumi.${stack}.yaml, which is not here`);
  let settings: Record<string, unknown>;
  try {
    settings = readStackFile(stack);
  } catch (error) {
    return why(`offline, the preview reads what ${name} runs from Pulumi.${stack}.yaml, which cannot be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  const own = settings[`${PROJECT}:organization`];
  if (own !== organization) return why(`Pulumi.${stack}.yaml is a stack of organization ${String(own)}, not ${organization}`);
  const pin = pinOf(settings);
  const section = settings[`${PROJECT}:image`];
  const keepsRecords = isPlainObject(section) && section.smokeRecords === true;
  references.outputs[name] = {
    ...(pin === undefined ? {} : { [ARTIFACT_OUTPUT]: pin }),
    ...(pin !== undefined && keepsRecords ? { [VERIFIED_OUTPUT]: [pin] } : {}),
  };
  if (!keepsRecords) {
    references.unreadable.set(name, `Pulumi.${stack}.yaml keeps no smoke records (image.smokeRecords), so ${name} verifies nothing; name the stack whose smoke checks run, such as a staging stack`);
  }
  return references;
}

/** A structured config value as the program reads it (JSON), or undefined when it is not an object. */
function parsedSection(raw: string | undefined): Record<string, unknown> | undefined {
  if (raw === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    return isPlainObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The artifact Pulumi.staging.yaml pins. Offline (the preview, the tests) staging is taken to have
 * run it and passed its smoke checks: that is its smoke record and its `verifiedImageRefs` output.
 * @throws Error when Pulumi.staging.yaml pins no image.ref
 */
export function stagingArtifact(): string {
  const artifact = pinnedArtifact("staging");
  if (artifact === undefined) throw new Error("Pulumi.staging.yaml pins no image.ref");
  return artifact;
}

/**
 * The smoke records a stack keeping them (`image.smokeRecords`) would hold offline: one for the
 * artifact its own settings pin, which it runs and is taken to have passed its smoke checks with.
 */
function offlineSmokeRecordKeys(config: Record<string, string>): string[] {
  const ref = parsedSection(config[`${PROJECT}:image`])?.ref;
  const digest = typeof ref === "string" ? /@sha256:([a-f0-9]{64})$/.exec(ref)?.[1] : undefined;
  return digest === undefined ? [] : [`${SMOKE_RECORD_PREFIX}${digest}.json`];
}

/** The stack file's `config` map, read by the project's one stack-file reader (stackFiles.ts). */
export const readStackFile = readStackFileAt;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The stack file's settings with overrides applied, as the engine hands them to the program. */
export function stackConfig(stack: string, overrides: ConfigOverrides = {}, stackFile?: string): Record<string, string> {
  const merged: Record<string, unknown> = { ...(stackFile === undefined ? readStackFile(stack) : readSettingsFile(stackFile)) };
  for (const [key, value] of Object.entries(overrides)) {
    const fullKey = key.includes(":") ? key : `${PROJECT}:${key}`;
    const current = merged[fullKey];
    if (value === null) {
      delete merged[fullKey];
    } else if (isPlainObject(value) && isPlainObject(current)) {
      const section: Record<string, unknown> = { ...current };
      for (const [k, v] of Object.entries(value)) {
        if (v === null) delete section[k];
        else section[k] = v;
      }
      merged[fullKey] = section;
    } else {
      merged[fullKey] = value;
    }
  }
  return Object.fromEntries(
    Object.entries(merged).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
}

function shortHash(text: string, length = 8): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/** Ids as AWS shapes them, so code that parses them (prefixes, ARNs) sees realistic values. */
const ID_PREFIX: Record<string, string> = {
  "aws:ec2/vpc:Vpc": "vpc-",
  "aws:ec2/subnet:Subnet": "subnet-",
  "aws:ec2/securityGroup:SecurityGroup": "sg-",
  "aws:ec2/routeTable:RouteTable": "rtb-",
  "aws:ec2/internetGateway:InternetGateway": "igw-",
  "aws:ec2/natGateway:NatGateway": "nat-",
  "aws:ec2/eip:Eip": "eipalloc-",
  "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
  "aws:ec2/flowLog:FlowLog": "fl-",
};

function awsService(type: string): string {
  return type.split(":")[1]?.split("/")[0] ?? "aws";
}

/** Realistic outputs for the resources whose attributes the program reads. */
function mockState(type: string, name: string, inputs: Record<string, unknown>, stackRegion: string, refs: Record<string, Record<string, unknown>>): { id: string; state: Record<string, unknown> } {
  // A resource placed in another region (@pulumi/aws v7's per-resource `region`, such as the
  // us-east-1 health-check alarm's topic and key) has its addresses there.
  const region = typeof inputs.region === "string" ? inputs.region : stackRegion;
  const hash = shortHash(`${type}::${name}`);
  const id = `${ID_PREFIX[type] ?? `${name}-`}${ID_PREFIX[type] ? `0${hash}${shortHash(name, 8)}` : hash}`;
  const service = awsService(type);
  const kind = (type.split(":")[2] ?? "resource").toLowerCase();
  const clusterResource = clusterResourceState(type, name, inputs, ACCOUNT_ID, region);
  if (clusterResource) return clusterResource;
  const state: Record<string, unknown> = { ...inputs };
  if (type.startsWith("aws:")) {
    const resourceName = (inputs.name as string | undefined) ?? id;
    state.arn = `arn:aws:${service}:${region}:${ACCOUNT_ID}:${kind}/${resourceName}`;
    state.name ??= resourceName;
  }
  switch (type) {
    case "pulumi:pulumi:StackReference": {
      const stackName = String(inputs.name);
      const outputs = refs[stackName];
      if (!outputs) throw new Error(`no mocked outputs for StackReference "${stackName}": pass stackReferences to runProgram`);
      return { id: stackName, state: { name: stackName, outputs, secretOutputNames: [] } };
    }
    case "aws:s3/bucket:Bucket": {
      const bucket = (inputs.bucket as string | undefined) ?? `${name}-${hash}`;
      Object.assign(state, {
        bucket,
        arn: `arn:aws:s3:::${bucket}`,
        bucketDomainName: `${bucket}.s3.amazonaws.com`,
        bucketRegionalDomainName: `${bucket}.s3.${region}.amazonaws.com`,
        region,
      });
      return { id: bucket, state };
    }
    case "aws:kms/key:Key": {
      const keyId = `${hash}-1111-2222-3333-${shortHash(name, 12)}`;
      Object.assign(state, { keyId, arn: `arn:aws:kms:${region}:${ACCOUNT_ID}:key/${keyId}` });
      return { id: keyId, state };
    }
    case "aws:rds/instance:Instance": {
      const identifier = (inputs.identifier as string | undefined) ?? name;
      const address = `${identifier}.c${hash}.${region}.rds.amazonaws.com`;
      const port = (inputs.port as number | undefined) ?? 5432;
      Object.assign(state, {
        identifier,
        address,
        endpoint: `${address}:${port}`,
        port,
        resourceId: `db-${hash.toUpperCase()}${shortHash(identifier, 10).toUpperCase()}`,
        arn: `arn:aws:rds:${region}:${ACCOUNT_ID}:db:${identifier}`,
        masterUserSecrets: inputs.manageMasterUserPassword
          ? [{ secretArn: `arn:aws:secretsmanager:${region}:${ACCOUNT_ID}:secret:rds!db-${hash}-AbCdEf`, secretStatus: "active", kmsKeyId: inputs.masterUserSecretKmsKeyId }]
          : [],
      });
      return { id: identifier, state };
    }
    case "aws:elasticache/replicationGroup:ReplicationGroup": {
      const groupId = (inputs.replicationGroupId as string | undefined) ?? name;
      Object.assign(state, {
        primaryEndpointAddress: `master.${groupId}.${hash.slice(0, 6)}.euw1.cache.amazonaws.com`,
        readerEndpointAddress: `replica.${groupId}.${hash.slice(0, 6)}.euw1.cache.amazonaws.com`,
        port: (inputs.port as number | undefined) ?? 6379,
        arn: `arn:aws:elasticache:${region}:${ACCOUNT_ID}:replicationgroup:${groupId}`,
      });
      return { id: groupId, state };
    }
    case "aws:cloudfront/distribution:Distribution": {
      const distributionId = `E${hash.toUpperCase()}${shortHash(name, 5).toUpperCase()}`;
      Object.assign(state, {
        domainName: `d${hash}${shortHash(name, 5)}.cloudfront.net`,
        hostedZoneId: "Z2FDTNDATAQYW2",
        arn: `arn:aws:cloudfront::${ACCOUNT_ID}:distribution/${distributionId}`,
      });
      return { id: distributionId, state };
    }
    case "aws:iam/role:Role":
    case "aws:iam/policy:Policy": {
      const roleName = (inputs.name as string | undefined) ?? `${name}-${hash.slice(0, 7)}`;
      Object.assign(state, { name: roleName, arn: `arn:aws:iam::${ACCOUNT_ID}:${kind}/${roleName}` });
      return { id: roleName, state };
    }
    case "aws:sns/topic:Topic": {
      const topicName = (inputs.name as string | undefined) ?? `${name}-${hash.slice(0, 7)}`;
      Object.assign(state, { name: topicName, arn: `arn:aws:sns:${region}:${ACCOUNT_ID}:${topicName}` });
      return { id: state.arn as string, state };
    }
    case "aws:cloudwatch/logGroup:LogGroup": {
      const groupName = (inputs.name as string | undefined) ?? `${name}-${hash.slice(0, 7)}`;
      Object.assign(state, { name: groupName, arn: `arn:aws:logs:${region}:${ACCOUNT_ID}:log-group:${groupName}` });
      return { id: groupName, state };
    }
    case "aws:acm/certificate:Certificate": {
      // ACM asks for one CNAME per name; the certificate lives in its own region.
      const domainName = String(inputs.domainName);
      const certificateId = `${hash}-aaaa-bbbb-cccc-${shortHash(name, 12)}`;
      Object.assign(state, {
        arn: `arn:aws:acm:${region}:${ACCOUNT_ID}:certificate/${certificateId}`,
        region,
        domainValidationOptions: [
          { domainName, resourceRecordName: `_${shortHash(domainName, 32)}.${domainName}.`, resourceRecordType: "CNAME", resourceRecordValue: `_${shortHash(`${domainName}-v`, 32)}.zfyfvmchrl.acm-validations.aws.` },
        ],
      });
      return { id: state.arn as string, state };
    }
    case "aws:route53/record:Record": {
      const fqdn = String(inputs.name).replace(/\.$/, "");
      return { id: `${String(inputs.zoneId)}_${fqdn}_${String(inputs.type)}`, state: { ...state, fqdn } };
    }
    case "aws:route53/healthCheck:HealthCheck":
      return { id: `${hash}-aaaa-bbbb-cccc-${shortHash(name, 12)}`, state };
    case "random:index/randomPassword:RandomPassword": {
      const length = (inputs.length as number | undefined) ?? 32;
      // An explicit special-character set ends the result, so code that must encode it is exercised.
      const specials = inputs.special === false ? "" : ((inputs.overrideSpecial as string | undefined) ?? "");
      const result = `mock-${shortHash(name, 64)}${shortHash(`${name}-2`, 64)}`.slice(0, Math.max(length - specials.length, 0)) + specials;
      return { id: "none", state: { ...state, result: result.slice(0, length) } };
    }
    case "aws:backup/vault:Vault": {
      const vaultName = (inputs.name as string | undefined) ?? `${name}-${hash.slice(0, 7)}`;
      Object.assign(state, { name: vaultName, arn: `arn:aws:backup:${region}:${ACCOUNT_ID}:backup-vault:${vaultName}`, region });
      return { id: vaultName, state };
    }
    default:
      if (type.startsWith("kubernetes:")) {
        const metadata = { ...(inputs.metadata as Record<string, unknown> | undefined) };
        metadata.name ??= `${name}-${hash.slice(0, 8)}`;
        // The AWS Load Balancer Controller writes the ALB it made into the Ingress's status.
        if (type === "kubernetes:networking.k8s.io/v1:Ingress") {
          const hostname = `k8s-${String(metadata.namespace ?? "default").slice(0, 8)}-${String(metadata.name).slice(0, 8)}-${hash.slice(0, 10)}-1234567890.${region}.elb.amazonaws.com`;
          return { id: `${metadata.namespace ?? "default"}/${metadata.name}`, state: { ...state, metadata, status: { loadBalancer: { ingress: [{ hostname }] } } } };
        }
        return { id: `${metadata.namespace ?? "default"}/${metadata.name}`, state: { ...state, metadata } };
      }
      return { id, state };
  }
}

const MANAGED_POLICY_IDS: Record<string, string> = {
  "Managed-CachingOptimized": "658327ea-f89d-4fab-a63d-7e88639e58f6",
  "Managed-CachingDisabled": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
  "Managed-CORS-S3Origin": "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf",
  "Managed-AllViewerExceptHostHeader": "b689b0a8-53d0-40ab-baf2-68738e2966ac",
  "Managed-SecurityHeadersPolicy": "67f7725c-6f97-4210-82d7-5512b31e9d03",
};

function mockCall(token: string, inputs: Record<string, unknown>, region: string, world: AwsWorld): Record<string, unknown> {
  const found = lookupInvoke(world, token, inputs, region);
  if (found) return found;
  switch (token) {
    case "aws:index/getAvailabilityZones:getAvailabilityZones":
      return { names: ["a", "b", "c"].map((z) => `${region}${z}`), zoneIds: ["az1", "az2", "az3"].map((z) => `euw1-${z}`), id: region };
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { accountId: ACCOUNT_ID, arn: `arn:aws:iam::${ACCOUNT_ID}:user/ci`, userId: "AIDAEXAMPLE", id: ACCOUNT_ID };
    case "aws:index/getRegion:getRegion":
      return { name: region, region, id: region, description: region, endpoint: `ec2.${region}.amazonaws.com` };
    case "aws:index/getPartition:getPartition":
      return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
    case "aws:route53/getZone:getZone": {
      const zoneName = String(inputs.name);
      const zoneId = `Z${shortHash(zoneName, 20).toUpperCase()}`;
      return { id: zoneId, zoneId, name: zoneName, privateZone: false, arn: `arn:aws:route53:::hostedzone/${zoneId}`, nameServers: ["ns-1.awsdns-01.org"] };
    }
    case "aws:lb/getHostedZoneId:getHostedZoneId": {
      // The ALBs' canonical hosted zones (Elastic Load Balancing endpoints and quotas).
      const zones: Record<string, string> = { "eu-west-1": "Z32O12XQLNTSW2", "eu-central-1": "Z215JYRZR1TBD5", "us-east-1": "Z35SXDOTRQ7X7K" };
      const zoneRegion = (inputs.region as string | undefined) ?? region;
      const zoneId = zones[zoneRegion];
      if (!zoneId) throw new Error(`no mocked ALB hosted zone for ${zoneRegion}`);
      return { id: zoneId };
    }
    case "aws:cloudfront/getCachePolicy:getCachePolicy":
    case "aws:cloudfront/getOriginRequestPolicy:getOriginRequestPolicy":
    case "aws:cloudfront/getResponseHeadersPolicy:getResponseHeadersPolicy": {
      const policyName = String(inputs.name);
      const policyId = MANAGED_POLICY_IDS[policyName];
      if (!policyId) throw new Error(`no mocked id for the managed CloudFront policy "${policyName}"`);
      return { id: policyId, name: policyName };
    }
    default:
      throw new Error(`no mock for the invoke "${token}": add one to tests/support/harness.ts`);
  }
}

/** Sentinels of Pulumi's wire format (sdk/go/common/resource/properties.go). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Turns the wire form into plain values, noting where secrets were. */
function unwrapWire(value: unknown, at: string, secrets: string[]): unknown {
  if (value === UNKNOWN) return "[unknown]";
  if (Array.isArray(value)) return value.map((v, i) => unwrapWire(v, `${at}[${i}]`, secrets));
  if (!isPlainObject(value)) return value;
  if (value[SIG_KEY] === SECRET_SIG) {
    secrets.push(at);
    return unwrapWire(value.value, at, []);
  }
  if (value[SIG_KEY] === RESOURCE_SIG) return value.id ? String(value.id) : String(value.urn);
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, unwrapWire(v, at ? `${at}.${k}` : k, secrets)]),
  );
}

interface WireRequest {
  getProtect(): boolean;
  getRetainondelete(): boolean;
  getDeletebeforereplace(): boolean;
  getIgnorechangesList(): string[];
  getDependenciesList(): string[];
  getAliasurnsList(): string[];
  getAliasesList(): { toObject(): unknown }[];
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getProvider(): string;
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
  getPropertydependenciesMap(): { forEach(fn: (deps: { getUrnsList(): string[] }, key: string) => void): void };
}
interface WireResponse {
  getUrn(): string;
}
interface MonitorLike {
  registerResource(req: WireRequest, callback: (err: unknown, res?: WireResponse) => void): Promise<void>;
}

/** An alias as its URN, or its spec without the fields left empty (`{ type, parenturn }`). */
function compactAlias(alias: unknown): unknown {
  const { urn, spec } = alias as { urn?: string; spec?: Record<string, unknown> };
  if (urn) return urn;
  return Object.fromEntries(Object.entries(spec ?? {}).filter(([, v]) => v !== "" && v !== false && v !== undefined));
}

/** The options a registration carries, left out where they have their default. */
function recordedOptions(req: WireRequest, propertyDependencies: Record<string, string[]>): RecordedOptions {
  const implicit = new Set(Object.values(propertyDependencies).flat());
  const dependsOn = req.getDependenciesList().filter((urn) => !implicit.has(urn));
  const aliases: unknown[] = [...req.getAliasurnsList(), ...req.getAliasesList().map((alias) => compactAlias(alias.toObject()))];
  const options: RecordedOptions = {};
  if (req.getProtect()) options.protect = true;
  if (req.getRetainondelete()) options.retainOnDelete = true;
  if (req.getDeletebeforereplace()) options.deleteBeforeReplace = true;
  if (req.getIgnorechangesList().length > 0) options.ignoreChanges = req.getIgnorechangesList();
  if (dependsOn.length > 0) options.dependsOn = dependsOn;
  if (aliases.length > 0) options.aliases = aliases;
  if (req.getProvider()) options.provider = req.getProvider();
  return options;
}

// The mock runtime is process-global: runs queue up one at a time.
let queue: Promise<unknown> = Promise.resolve();

/** Runs index.ts for a stack under mocks and returns everything it registered and exported. */
export function runProgram(options: RunOptions): Promise<ProgramResult> {
  const run = queue.then(() => runOnce(options));
  queue = run.catch(() => undefined);
  return run;
}

async function runOnce(options: RunOptions): Promise<ProgramResult> {
  const { stack } = options;
  const config = stackConfig(stack, options.config, options.stackFile);
  const region = config["aws:region"] ?? "eu-west-1";
  const organization = config[`${PROJECT}:organization`] ?? "organization";
  const world = options.world ?? defaultWorld(ACCOUNT_ID, region);
  const offline = options.stackReferences === undefined ? offlineReferences(config) : undefined;
  const stackReferences = options.stackReferences ?? offline?.outputs ?? {};
  const read = new Set<string>();
  const smokeRecordKeys = options.smokeRecordKeys ?? offlineSmokeRecordKeys(config);
  const resources: RecordedResource[] = [];
  const namesByUrn = new Map<string, string>();

  await pulumi.runtime.setMocks(
    {
      newResource: ({ type, name, inputs }) => {
        if (type === "pulumi:pulumi:StackReference") read.add(String(inputs.name));
        return mockState(type, name, inputs as Record<string, unknown>, region, stackReferences);
      },
      call: ({ token, inputs }) =>
        token === "aws:s3/getObjects:getObjects" ? { keys: smokeRecordKeys, id: String(inputs.bucket) } : mockCall(token, inputs as Record<string, unknown>, region, world),
    },
    PROJECT,
    stack,
    false,
    organization,
  );
  const secretKeys = Object.keys(options.secrets ?? {}).map((k) => `${PROJECT}:${k}`);
  for (const [k, v] of Object.entries(options.secrets ?? {})) config[`${PROJECT}:${k}`] = v;
  pulumi.runtime.setAllConfig(config, secretKeys);

  // Record each registration on its way into the mock monitor: the Mocks interface does not see
  // the parent, and the wire form is where secrets are visibly marked.
  const settings = (await import("@pulumi/pulumi/runtime/settings.js")) as unknown as { getMonitor(): MonitorLike };
  const monitor = settings.getMonitor();
  if (monitor.constructor.name !== "MockMonitor") {
    throw new Error(`the harness must register through Pulumi's MockMonitor, got ${monitor.constructor.name}`);
  }
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) =>
    register(req, (err, res) => {
      if (!err && res) {
        const secretPaths: string[] = [];
        const raw = req.getObject()?.toJavaScript() ?? {};
        const urn = res.getUrn();
        namesByUrn.set(urn, req.getName());
        const propertyDependencies: Record<string, string[]> = {};
        req.getPropertydependenciesMap().forEach((deps, key) => {
          propertyDependencies[key] = deps.getUrnsList();
        });
        resources.push({
          options: recordedOptions(req, propertyDependencies),
          type: req.getType(),
          name: req.getName(),
          urn,
          parent: req.getParent() || undefined,
          parentName: undefined,
          custom: req.getCustom(),
          inputs: unwrapWire(raw, "", secretPaths) as Record<string, unknown>,
          secretPaths,
          provider: req.getProvider() || undefined,
          propertyDependencies,
        });
      }
      callback(err, res);
    });

  const exported = (await import("../../index.js")) as ProgramModule;
  const program = "default" in exported ? exported.default : exported;
  let outputs: Record<string, unknown>;
  const secretOutputs: string[] = [];
  try {
    const raw = await program();
    outputs = {};
    for (const [key, value] of Object.entries(raw)) {
      const output = pulumi.output(value) as pulumi.Output<unknown>;
      outputs[key] = await settle(output);
      if (await pulumi.isSecret(output)) secretOutputs.push(key);
    }
    const { waitForRPCs } = settings as unknown as { waitForRPCs(): Promise<void> };
    await waitForRPCs();
  } catch (error) {
    // A failure after reading a stack that could not be read offline says why it could not.
    const reasons = [...read].flatMap((name) => offline?.unreadable.get(name) ?? []);
    if (error instanceof Error && reasons.length > 0) error.message = `${error.message} (${reasons.join("; ")})`;
    throw new ProgramError(error, resources);
  }
  for (const resource of resources) {
    resource.parentName = resource.parent ? namesByUrn.get(resource.parent) : undefined;
  }
  if (resources.length === 0) throw new Error("the program registered nothing through the mock monitor");
  return { stack, resources, outputs, secretOutputs };
}

/**
 * An Output's value, or its error: `apply` alone never settles on a failed Output (a run-time check
 * that throws), which would hang the run instead of failing it.
 */
function settle(output: pulumi.Output<unknown>): Promise<unknown> {
  const internal = output as unknown as { promise?: () => Promise<unknown> };
  if (typeof internal.promise === "function") return internal.promise();
  return new Promise((resolve) => output.apply(resolve));
}

type Program = () => Promise<Record<string, pulumi.Input<unknown>>>;
/** index.ts is CommonJS (`export =`); a dynamic import may hand it back bare or as `default`. */
type ProgramModule = Program | { default: Program };

/** Replaces every secret input of a recorded resource with "[secret]". */
export function redactedInputs(resource: RecordedResource): Record<string, unknown> {
  const copy = structuredClone(resource.inputs);
  for (const secretPath of resource.secretPaths) {
    if (secretPath === "") return { "[secret]": true };
    const parts = secretPath.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== "");
    let node: Record<string, unknown> = copy;
    for (const part of parts.slice(0, -1)) node = node[part] as Record<string, unknown>;
    node[parts[parts.length - 1] as string] = "[secret]";
  }
  return copy;
}

/** Every resource of a type. */
export function ofType(result: ProgramResult, type: string): RecordedResource[] {
  return result.resources.filter((r) => r.type === type);
}

/** The single resource of a type (optionally with a given name); fails loudly if there is not exactly one. */
export function one(result: ProgramResult, type: string, name?: string): RecordedResource {
  const found = ofType(result, type).filter((r) => name === undefined || r.name === name);
  if (found.length !== 1) {
    throw new Error(`expected exactly one ${type}${name ? ` named ${name}` : ""}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
  }
  return found[0] as RecordedResource;
}
