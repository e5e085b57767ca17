import * as pulumi from "@pulumi/pulumi";
import type { DrillRecord, DrillSpec, LocalSpec, RdsSpec } from "../ops/restore";
import { loadOps, OPS_LOCATION, replacingDiff } from "./shared";

/**
 * The restore drill as a dynamic resource (RUNBOOK.md, Backup and restore drill, steps 3-7), for
 * deploy-time and on-demand drills (AWS Backup restore testing runs the weekly one without a
 * deploy). `window` is the ISO week: a new week replaces the resource, and creating it runs the
 * drill. The provider only calls AWS APIs; the checks run in the validation function inside the VPC.
 *
 * - A failed drill is a result: the resource is created with `passed: false` and the record and
 *   metrics are published (the alarm pages); only a temporary instance that could not be deleted, or
 *   AWS that could not be reached, fails the operation.
 * - create and delete first sweep the temporary instances a crashed run of this source left.
 * - read (`pulumi refresh`) finds the drill gone when its published record is gone.
 * - No signal handlers, no process.exit: the provider host is shared with other resources.
 */

/** Inputs that replace the resource when they change: each drill is one event. */
const RESTORE_DRILL_INPUTS = ["window", "mode", "temporaryPrefix", "backend", "checks", "validationBudgetSeconds", "publish", "adminUrl"] as const;

export interface RestoreDrillInputs {
  window: string;
  mode: DrillSpec["mode"];
  temporaryPrefix: string;
  /** The rds backend, or the local one without its credentials (those travel in `adminUrl`). */
  backend: RdsSpec | Omit<LocalSpec, "adminUrl">;
  /** Secret: the local backend's admin connection; unset for rds. */
  adminUrl?: string;
  checks: DrillSpec["checks"];
  validationBudgetSeconds?: number;
  publish: DrillSpec["publish"];
}

export interface RestoreDrillOutputs extends RestoreDrillInputs {
  rtoSeconds: number | null;
  snapshotId: string;
  restoreMode: DrillSpec["mode"];
  startedAt: string;
  finishedAt: string;
  passed: boolean;
  integritySummary: string;
  temporaryId: string;
  notes: string[];
  /** Where the record went (`s3://bucket/key` or a file); empty when it was published nowhere. */
  recordLocation: string;
}

type RestoreOps = typeof import("../ops/restore");

function specOf(inputs: RestoreDrillInputs): DrillSpec {
  const backend: DrillSpec["backend"] =
    inputs.backend.kind === "local" ? { ...inputs.backend, adminUrl: inputs.adminUrl ?? "" } : inputs.backend;
  if (backend.kind === "local" && !backend.adminUrl) throw new Error("RestoreDrill: the local backend needs adminUrl (a secret connection to the server's maintenance database)");
  return {
    window: inputs.window,
    mode: inputs.mode,
    temporaryPrefix: inputs.temporaryPrefix,
    backend,
    checks: inputs.checks,
    validationBudgetSeconds: inputs.validationBudgetSeconds,
    publish: inputs.publish,
  };
}

const restoreDrillProvider: pulumi.dynamic.ResourceProvider<RestoreDrillInputs, RestoreDrillOutputs> = {
  async diff(_id, olds, news) {
    return replacingDiff(olds, news, RESTORE_DRILL_INPUTS);
  },

  async create(inputs) {
    const ops = loadOps<RestoreOps>(OPS_LOCATION, "ops/restore/index");
    const record: DrillRecord = await ops.runDrillSpec(specOf(inputs));
    const published = record.notes.find((n) => n.startsWith("record published to "))?.slice("record published to ".length) ?? "";
    return {
      id: `${record.sourceId}@${record.window}`,
      outs: {
        ...inputs,
        rtoSeconds: record.rtoSeconds ?? null,
        snapshotId: record.snapshotId,
        restoreMode: record.restoreMode,
        startedAt: record.startedAt,
        finishedAt: record.finishedAt,
        passed: record.passed,
        integritySummary: record.integritySummary,
        temporaryId: record.temporaryId,
        notes: record.notes,
        recordLocation: published.split(", ").find((p) => p.startsWith("s3://") || p.startsWith("/")) ?? "",
      },
    };
  },

  async read(id, props) {
    if (!props?.recordLocation) return { id, props };
    const ops = loadOps<RestoreOps>(OPS_LOCATION, "ops/restore/index");
    const aws = props.backend.kind === "rds" ? ops.awsClientConfig(props.backend.aws) : {};
    // A drill whose record is gone has no evidence left: refresh drops it and the next up drills again.
    return (await ops.recordExists(props.recordLocation, aws)) ? { id, props } : { id: "", props: undefined };
  },

  async delete(_id, props) {
    // The drill deleted its temporary database already; this catches any a crash left behind.
    const ops = loadOps<RestoreOps>(OPS_LOCATION, "ops/restore/index");
    await ops.sweepTemporaries(specOf(props));
  },
};

export type RestoreDrillArgs = { [K in keyof RestoreDrillInputs]: pulumi.Input<RestoreDrillInputs[K]> };

export class RestoreDrill extends pulumi.dynamic.Resource {
  /** Restore requested until the checks passed, in seconds; null when the checks failed. */
  declare readonly rtoSeconds: pulumi.Output<number | null>;
  declare readonly snapshotId: pulumi.Output<string>;
  declare readonly restoreMode: pulumi.Output<string>;
  declare readonly startedAt: pulumi.Output<string>;
  declare readonly finishedAt: pulumi.Output<string>;
  declare readonly passed: pulumi.Output<boolean>;
  declare readonly integritySummary: pulumi.Output<string>;
  declare readonly temporaryId: pulumi.Output<string>;
  declare readonly notes: pulumi.Output<string[]>;
  declare readonly recordLocation: pulumi.Output<string>;

  constructor(name: string, args: RestoreDrillArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      restoreDrillProvider,
      name,
      {
        ...args,
        rtoSeconds: undefined,
        snapshotId: undefined,
        restoreMode: undefined,
        startedAt: undefined,
        finishedAt: undefined,
        passed: undefined,
        integritySummary: undefined,
        temporaryId: undefined,
        notes: undefined,
        recordLocation: undefined,
      },
      // The engine (not the mock runtime) applies these. `notes` quotes failed checks, whose sample
      // values come from the restored data (e-mail addresses, ids): as sensitive as the credentials.
      { ...opts, additionalSecretOutputs: ["adminUrl", "notes"] },
      "runbook-platform",
      "RestoreDrill",
    );
  }
}
