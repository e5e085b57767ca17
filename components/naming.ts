import { PROJECT, type Environment, type StackName } from "../runbook";

/**
 * Physical names for AWS resources, within each service's length limit. Logical names are
 * `${parent}-<role>`; physical names add the project and stack so two stacks never collide.
 */
const NAME_LIMITS = {
  /** RDS DB instance identifier. */
  rds: 63,
  /** ElastiCache replication group id. */
  elasticache: 40,
  /** S3 bucket names (global namespace; leave room for Pulumi's random suffix). */
  s3: 55,
  /** IAM role names. */
  iam: 64,
  /** CloudWatch alarm names allow 255; keep them readable. */
  cloudwatch: 255,
  /** SNS topic names. */
  sns: 256,
  /** AWS Backup vault and plan names. */
  backup: 50,
  /** Lambda function names. */
  lambda: 64,
  /** Security group names. */
  ec2: 255,
  /** CloudFront origin access control, cache and response headers policy names. */
  cloudfront: 64,
  /** CloudWatch Logs delivery sources and destinations (CloudFront standard logging v2). */
  logdelivery: 60,
  /** EKS cluster names. */
  eks: 100,
} as const;

export type NamedService = keyof typeof NAME_LIMITS;

/**
 * Which stack a component belongs to: its name (dev, staging-eu, prod) keeps two stacks in one
 * account apart, its environment decides the per-environment rules (production protects, staging
 * may be destroyed), and the name prefix (config `namePrefix`) starts every physical name.
 */
export interface StackIdentity {
  /** The Pulumi stack's name. */
  name: string;
  /** The environment the stack file declares (`environment:`). */
  environment: Environment;
  /** The first part of physical names, log groups and metric namespaces, such as `runbook`. */
  namePrefix: string;
}

/** The identity of a stack this repository ships (staging, production), with the prefix its stack file uses. */
export function shippedStack(stack: StackName, namePrefix = "runbook"): StackIdentity {
  return { name: stack, environment: stack, namePrefix };
}

/**
 * `<namePrefix>-<stack>-<role>`, lower-case, trimmed to the service's limit. Names that must fit are
 * shortened from the role's end, never by dropping the stack (two stacks share one account).
 */
export function physicalName(stack: StackIdentity, role: string, service: NamedService): string {
  const name = `${stack.namePrefix}-${stack.name}-${role}`.toLowerCase().replace(/[^a-z0-9-]/g, "-").replace(/-+/g, "-");
  const limit = NAME_LIMITS[service];
  return name.length <= limit ? name : name.slice(0, limit).replace(/-+$/, "");
}

/** Tags every taggable resource carries. */
export function defaultTags(stack: StackIdentity): Record<string, string> {
  return { project: PROJECT, stack: stack.name, environment: stack.environment, "managed-by": "pulumi" };
}
