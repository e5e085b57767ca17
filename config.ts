import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "./runbook";
import { ConfigError, NOT_SHOWN, STACK_NAME_PATH, toProblems, type Problem } from "./settings/problems";
import { crossChecks, validSections } from "./settings/rules";
import { AWS_REGION, configSchema, SECRET_KEYS, SECTIONS, STACK_NAME, type PlatformConfig, type Settings } from "./settings/schema";

/**
 * The only reader of `pulumi.Config`. Every setting is validated here, before index.ts registers a
 * single resource; a bad stack file fails with one error that lists every bad key. The settings'
 * forms are in settings/schema.ts, the rules across keys in settings/rules.ts, the wording of a
 * problem in settings/problems.ts.
 */

export { PROJECT };
export { ConfigError } from "./settings/problems";
export { configSchema, SECRET_KEYS, type PlatformConfig } from "./settings/schema";

/**
 * Validates raw (already JSON-parsed) settings for a stack. Pure: the mock harness, the offline
 * preview and the tests call it without the Pulumi runtime.
 */
export function parseConfig(stack: string, raw: Record<string, unknown>): Settings & { stack: string } {
  if (!STACK_NAME.test(stack)) {
    throw new ConfigError(stack, [{ path: STACK_NAME_PATH, got: stack, expected: "a Pulumi stack name: letters, digits, -, _ and . (such as dev, staging-eu, prod)" }]);
  }
  const result = configSchema.safeParse(raw, { reportInput: true });
  const problems = result.success
    ? crossChecks(result.data)
    : (() => {
        const { valid, invalid } = validSections(raw);
        return [...result.error.issues.flatMap(toProblems), ...crossChecks(valid, invalid)];
      })();
  if (!result.success || problems.length > 0) throw new ConfigError(stack, problems);
  return { ...result.data, stack };
}

/** Reads and validates this stack's settings; throws a ConfigError before anything is registered. */
export function loadConfig(): PlatformConfig {
  const stack = pulumi.getStack();
  const config = new pulumi.Config(PROJECT);
  const raw: Record<string, unknown> = {};
  const problems: Problem[] = [];
  for (const section of SECTIONS) {
    const text = config.get(section);
    if (text === undefined) continue;
    try {
      raw[section] = JSON.parse(text);
    } catch {
      raw[section] = text;
    }
  }
  const known = new Set<string>([...SECTIONS, ...SECRET_KEYS]);
  for (const key of Object.keys(pulumi.runtime.allConfig())) {
    const [namespace, name] = key.split(":");
    if (namespace === PROJECT && name !== undefined && !known.has(name)) {
      // Its value is not echoed: a mistyped secret key (`--secret kubeConfig`) would print the secret.
      problems.push({ path: name, got: NOT_SHOWN, expected: "no such key (check its spelling against the README's config table)" });
    }
  }
  const pageEmails = (raw.alarms as { pageEmails?: unknown } | undefined)?.pageEmails;
  if (!(`${PROJECT}:pageHttpsEndpoint` in pulumi.runtime.allConfig()) && !(Array.isArray(pageEmails) && pageEmails.length > 0)) {
    problems.push({
      path: "alarms.pageEmails",
      got: pageEmails,
      expected: "at least one on-call address, or the secret pageHttpsEndpoint (pulumi config set --secret pageHttpsEndpoint <url>): pages must reach someone",
    });
  }
  const region = new pulumi.Config("aws").get("region");
  if (!region || !AWS_REGION.test(region)) {
    problems.push({ path: "aws:region", got: region, expected: "an AWS region such as eu-west-1, set as aws:region" });
  }
  let parsed: ReturnType<typeof parseConfig> | undefined;
  try {
    parsed = parseConfig(stack, raw);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.unshift(...error.problems);
  }
  if (problems.length > 0 || !parsed || !region) throw new ConfigError(stack, problems);
  return {
    ...parsed,
    region,
    kubeconfig: config.getSecret("kubeconfig"),
    githubToken: config.getSecret("githubToken"),
    pageHttpsEndpoint: config.getSecret("pageHttpsEndpoint"),
  };
}
