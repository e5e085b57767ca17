import * as pulumi from "@pulumi/pulumi";
import type { DrillRecord, DrillSpec, LocalSpec, RdsSpec } from "../ops/restore";
import { loadOps, OPS_LOCATION, replacingDiff } from "./shared";

/**
 * The weekly restore drill as a dynamic resource (RUNBOOK.md, Backup and restore drill, steps 3-7).
 * `window` is the ISO week: a new week replaces the resource, and creating it runs the drill. The
 * provider is a thin shell: its methods load ops/restore at deploy time and call into it.
 */

/** Inputs that replace the resource when they change: each drill is one event. */
export const RESTORE_DRILL_INPUTS = ["window", "mode", "temporaryPrefix", "backend", "integrity", "publish", "adminUrl"] as const;

export interface RestoreDrillInputs {
  window: string;
  mode: DrillSpec["mode"];
  temporaryPrefix: string;
  /** The rds backend, or the local one without its credentials (those travel in `adminUrl`). */
  backend: RdsSpec | Omit<LocalSpec, "adminUrl">;
  /** Secret: the local backend's admin connection; unset for rds. */
  adminUrl?: string;
  integrity: DrillSpec["integrity"];
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
}

type RestoreOps = typeof import("../ops/restore");

function specOf(inputs: RestoreDrillInputs): DrillSpec {
  const backend: DrillSpec["backend"] =
    inputs.backend.kind === "local" ? { ...inputs.backend, adminUrl: inputs.adminUrl ?? "" } : inputs.backend;
  if (backend.kind === "local" && !backend.adminUrl) throw new Error("RestoreDrill: the local backend needs adminUrl (a secret connection to the server's maintenance database)");
  return { window: inputs.window, mode: inputs.mode, temporaryPrefix: inputs.temporaryPrefix, backend, integrity: inputs.integrity, publish: inputs.publish };
}

export const restoreDrillProvider: pulumi.dynamic.ResourceProvider<RestoreDrillInputs, RestoreDrillOutputs> = {
  async diff(_id, olds, news) {
    return replacingDiff(olds, news, RESTORE_DRILL_INPUTS);
  },

  async create(inputs) {
    const ops = loadOps<RestoreOps>(OPS_LOCATION, "ops/restore/index");
    const record: DrillRecord = await ops.runDrillSpec(specOf(inputs));
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
      },
    };
  },

  async delete(_id, props) {
    // The drill deleted its temporary database already; this only catches one a crash left behind.
    const ops = loadOps<RestoreOps>(OPS_LOCATION, "ops/restore/index");
    if (props.temporaryId) await ops.deleteTemporary(specOf(props), props.temporaryId);
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
      },
      // The engine (not the mock runtime) applies these. `notes` quotes failed checks, whose sample
      // values come from the restored data (e-mail addresses, ids): as sensitive as the credentials.
      { ...opts, additionalSecretOutputs: ["adminUrl", "notes"] },
      "runbook-platform",
      "RestoreDrill",
    );
  }
}
