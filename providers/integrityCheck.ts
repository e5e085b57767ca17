import * as pulumi from "@pulumi/pulumi";
import type { AwsTarget, ValidationChecks, ValidationResult, ValidationTarget } from "../ops/restore";
import { loadOps, OPS_LOCATION, replacingDiff } from "./shared";

/**
 * A live database's integrity validation as a dynamic resource: once per `window` (ISO week) it
 * runs ops/integrity against the database, strictly read-only, and records the outcome. Like the
 * drill, it reaches the database only from inside the VPC: the provider invokes the validation
 * function, which reads the credentials from the database's RDS-managed secret, so no password is
 * an input. Without `validationFunction` (local use and tests) it validates in-process from
 * `databaseUrl`. A failed or unreachable check is a result (`passed: false`), never a failed deploy;
 * only AWS that cannot be reached fails the operation.
 */

const INTEGRITY_CHECK_INPUTS = ["window", "target", "databaseUrl", "validationFunction", "aws", "checks"] as const;

export interface IntegrityCheckInputs {
  window: string;
  /** The database, with `passwordSecretArn` (the function reads the secret). Unset with `databaseUrl`. */
  target?: ValidationTarget;
  /** Secret: a local database to validate in-process (no function). */
  databaseUrl?: string;
  /** The validation function inside the VPC (name or ARN). */
  validationFunction?: string;
  /** Region and credentials for invoking the function: the stack's AWS provider settings. */
  aws?: AwsTarget;
  checks: ValidationChecks;
}

export interface IntegrityCheckOutputs extends IntegrityCheckInputs {
  passed: boolean;
  integritySummary: string;
  checkedAt: string;
  /** The failed checks' names and details. */
  failures: string[];
}

type RestoreOps = typeof import("../ops/restore");

const integrityCheckProvider: pulumi.dynamic.ResourceProvider<IntegrityCheckInputs, IntegrityCheckOutputs> = {
  async diff(_id, olds, news) {
    return replacingDiff(olds, news, INTEGRITY_CHECK_INPUTS);
  },

  async create(inputs) {
    const ops = loadOps<RestoreOps>(OPS_LOCATION, "ops/restore/index");
    let result: ValidationResult;
    if (inputs.validationFunction && inputs.target && inputs.aws) {
      const { LambdaClient } = require("@aws-sdk/client-lambda") as typeof import("@aws-sdk/client-lambda");
      const validator = ops.lambdaValidator(inputs.validationFunction, new LambdaClient(ops.awsClientConfig(inputs.aws)));
      result = await validator({ kind: "validate", mode: "live", target: inputs.target, checks: inputs.checks });
    } else if (inputs.databaseUrl) {
      result = await ops.validate({ kind: "validate", mode: "live", target: ops.localTarget(inputs.databaseUrl), checks: inputs.checks });
    } else {
      throw new Error("IntegrityCheck: give validationFunction, target and aws (the database in AWS), or databaseUrl (a local database)");
    }
    return {
      id: `integrity@${inputs.window}`,
      outs: {
        ...inputs,
        passed: result.passed,
        integritySummary: result.summary,
        checkedAt: new Date().toISOString(),
        failures: result.results.filter((r) => r.status === "fail").map((r) => `${r.check}: ${r.detail}`),
      },
    };
  },

  async delete() {
    // A check leaves nothing behind: it never wrote anything.
  },
};

export type IntegrityCheckArgs = { [K in keyof IntegrityCheckInputs]: pulumi.Input<IntegrityCheckInputs[K]> };

export class IntegrityCheck extends pulumi.dynamic.Resource {
  declare readonly passed: pulumi.Output<boolean>;
  declare readonly integritySummary: pulumi.Output<string>;
  declare readonly checkedAt: pulumi.Output<string>;
  declare readonly failures: pulumi.Output<string[]>;

  constructor(name: string, args: IntegrityCheckArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      integrityCheckProvider,
      name,
      { ...args, passed: undefined, integritySummary: undefined, checkedAt: undefined, failures: undefined },
      // The engine (not the mock runtime) applies these. `failures` quotes sample values from the
      // database (e-mail addresses, ids): as sensitive as the credentials.
      { ...opts, additionalSecretOutputs: ["databaseUrl", "failures"] },
      "runbook-platform",
      "IntegrityCheck",
    );
  }
}
