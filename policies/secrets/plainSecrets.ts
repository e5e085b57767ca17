import type { ResourceValidationArgs } from "@pulumi/policy";
import type { RunbookResourcePolicy, SecretAware } from "../lib/policy";

/** Values that are credentials whatever key holds them. */
const SECRET_VALUES: readonly [string, RegExp][] = [
  ["an AWS access key id", /\b(AKIA|ASIA)[0-9A-Z]{16}\b/],
  ["a private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ["a GitHub token", /\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b/],
  ["a Slack token", /\bxox[abprs]-[A-Za-z0-9-]{10,}/],
  ["a Stripe live key", /\b[sr]k_live_[A-Za-z0-9]{16,}/],
  ["a URL with a password", /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:[^\s@/]+@/i],
];

/** Input names that hold a credential by design. */
const SECRET_KEYS = /^(password|passwd|masterPassword|authToken|token|apiKey|api_key|clientSecret|client_secret|secret|secretString|privateKey|private_key|secretAccessKey)$/i;

/** Environment variable names (Kubernetes `env[].name`) that hold a credential. */
const SECRET_ENV_NAMES = /(PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|CREDENTIALS?)$/i;

/**
 * Inputs designed to carry secrets, trusted when the analyzer cannot say what was secret
 * (`pulumi preview --policy-pack`): there a value in one of these is assumed to be a Pulumi secret.
 */
export const DESIGNED_SECRET_INPUTS: Readonly<Record<string, readonly string[]>> = {
  "aws:rds/instance:Instance": ["password"],
  "aws:elasticache/replicationGroup:ReplicationGroup": ["authToken"],
  "aws:secretsmanager/secretVersion:SecretVersion": ["secretString"],
  "kubernetes:core/v1:Secret": ["data", "stringData"],
  "pulumi:providers:github": ["token"],
  "pulumi:providers:kubernetes": ["kubeconfig"],
  "random:index/randomPassword:RandomPassword": ["result"],
};

export interface PlainSecret {
  path: string;
  kind: string;
}

function under(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
}

/** Every string input that looks like a credential and is not under a secret path. */
export function findPlainSecrets(props: Record<string, unknown>, secretPaths: readonly string[]): PlainSecret[] {
  const found: PlainSecret[] = [];
  const visit = (value: unknown, path: string, key: string) => {
    if (key.startsWith("__") || secretPaths.some((s) => under(path, s))) return;
    if (typeof value === "string") {
      if (value === "" || value === "[unknown]") return;
      const byValue = SECRET_VALUES.find(([, pattern]) => pattern.test(value));
      if (byValue) found.push({ path, kind: byValue[0] });
      else if (SECRET_KEYS.test(key)) found.push({ path, kind: `a value for "${key}"` });
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, `${path}[${i}]`, key));
      return;
    }
    if (typeof value !== "object" || value === null) return;
    const entry = value as Record<string, unknown>;
    if (/\benv\[\d+\]$/.test(path) && typeof entry.name === "string" && typeof entry.value === "string" && entry.value !== "" && SECRET_ENV_NAMES.test(entry.name)) {
      if (!secretPaths.some((s) => under(`${path}.value`, s))) found.push({ path: `${path}.value`, kind: `the environment variable ${entry.name}` });
      return;
    }
    for (const [k, v] of Object.entries(entry)) visit(v, path ? `${path}.${k}` : k, k);
  };
  visit(props, "", "");
  return found;
}

/**
 * `no-plain-secrets`: no credential-looking value travels as a plain (non-secret) input, where it
 * would be stored unencrypted in the state and printed by previews. Severity critical. Protects
 * "Branch Protection Setup: 1. Create a fine-grained token" and every credential the runbook hands
 * out (tokens, DATABASE_URL, the Redis auth token).
 *
 * The in-process evaluator knows exactly which inputs were secret (the harness's secretPaths). The
 * CrossGuard analyzer unwraps secrets before policies run, so there the inputs designed to carry
 * secrets (DESIGNED_SECRET_INPUTS) are trusted instead.
 */
export const noPlainSecrets: RunbookResourcePolicy = {
  name: "no-plain-secrets",
  description: "No secret-looking value in a plain (non-secret) resource input.",
  severity: "critical",
  runbookLine: "Branch Protection Setup: 1. Create a fine-grained token with `Administration` write scope",
  remediationSteps: "Wrap the value in pulumi.secret() or read it with config.requireSecret(); Kubernetes env vars take it from a Secret (valueFrom.secretKeyRef).",
  validateResource: (args: ResourceValidationArgs & SecretAware, reportViolation) => {
    const secretPaths = args.secretPaths ?? DESIGNED_SECRET_INPUTS[args.type] ?? [];
    for (const leak of findPlainSecrets(args.props, secretPaths)) {
      reportViolation(`${leak.path} holds ${leak.kind} as a plain input; make it a Pulumi secret.`);
    }
  },
};
