import type { RDSClientConfig } from "@aws-sdk/client-rds";
import { AwsUnreachableError } from "./types";

/**
 * The AWS account and region a drill acts in: the stack's AWS provider settings (`aws:region`,
 * `aws:profile`, `aws:assumeRoles`), passed by the component as plain data, so the providers act
 * exactly where the stack's resources are. Without a profile or role the SDK's default chain is used,
 * which is also what the stack's AWS provider does then.
 */
export interface AwsTarget {
  region: string;
  /** A shared-config profile (`aws:profile`). */
  profile?: string;
  /** A role to assume (`aws:assumeRoles[0]`), from the profile's or the default credentials. */
  assumeRole?: { roleArn: string; externalId?: string; sessionName?: string };
}

/** SDK client settings for a target: its region and credentials, nothing ambient beyond the default chain. */
export function awsClientConfig(target: AwsTarget): { region: string; credentials?: RDSClientConfig["credentials"] } {
  if (!target.region) throw new Error("the drill's AWS region is empty; set aws:region on the stack (the AWS provider's region)");
  const { fromIni, fromTemporaryCredentials } = require("@aws-sdk/credential-providers") as typeof import("@aws-sdk/credential-providers");
  const base = target.profile ? fromIni({ profile: target.profile }) : undefined;
  if (!target.assumeRole) return { region: target.region, ...(base ? { credentials: base } : {}) };
  return {
    region: target.region,
    credentials: fromTemporaryCredentials({
      params: {
        RoleArn: target.assumeRole.roleArn,
        RoleSessionName: target.assumeRole.sessionName ?? "runbook-restore-drill",
        ...(target.assumeRole.externalId ? { ExternalId: target.assumeRole.externalId } : {}),
      },
      ...(base ? { masterCredentials: base } : {}),
      clientConfig: { region: target.region },
    }),
  };
}

const AUTH_ERRORS = new Set([
  "CredentialsProviderError",
  "ExpiredToken",
  "ExpiredTokenException",
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "TimeoutError",
]);

/**
 * Whether an SDK error means AWS could not be reached or would not recognise the caller (no
 * response, no credentials, expired token): then the drill could not run, which is the
 * operation's failure, not a drill result.
 */
function isUnreachable(error: unknown): boolean {
  const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  if (AUTH_ERRORS.has(e.name ?? "")) return true;
  if (e.code && ["ECONNREFUSED", "ENOTFOUND", "ECONNRESET", "ETIMEDOUT", "EAI_AGAIN"].includes(e.code)) return true;
  return e.$metadata !== undefined && e.$metadata.httpStatusCode === undefined;
}

/** Rethrows an unreachable-AWS error as AwsUnreachableError naming the call; other errors pass through. */
export function classifyAwsError(call: string, error: unknown): never {
  if (isUnreachable(error)) throw new AwsUnreachableError(`cannot reach AWS for ${call}: ${(error as Error).message}`);
  throw error;
}
