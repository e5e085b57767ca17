import { writeFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { IntegrityCheck } from "../../../providers/integrityCheck";
import { RestoreDrill } from "../../../providers/restoreDrill";

/**
 * Serializes a dynamic provider the way `pulumi up` does, outside vitest: run with
 * `node -r ts-node/register/transpile-only serialize.ts <restoreDrill|integrityCheck> <out.txt>`.
 * It constructs the resource under Pulumi's mocks and writes the `__provider` input the engine receives.
 */
async function main(): Promise<void> {
  const [which, out] = process.argv.slice(2);
  if (!out || (which !== "restoreDrill" && which !== "integrityCheck")) throw new Error("usage: serialize.ts <restoreDrill|integrityCheck> <out>");
  let provider: string | undefined;
  await pulumi.runtime.setMocks(
    {
      newResource: ({ inputs, name }) => {
        if (typeof inputs.__provider === "string") provider = inputs.__provider;
        return { id: `${name}-id`, state: inputs };
      },
      call: () => ({}),
    },
    "runbook-platform",
    "staging",
    false,
  );
  if (which === "restoreDrill") {
    const drill = new RestoreDrill("drill", {
      window: "2025-W01",
      mode: "snapshot",
      temporaryPrefix: "drill",
      backend: { kind: "local", sourceDatabase: "app" },
      adminUrl: pulumi.secret("postgresql://unused"),
      checks: { expectedTables: [] },
      publish: {},
    });
    await new Promise((resolve) => drill.urn.apply(resolve));
  } else {
    const check = new IntegrityCheck("check", {
      window: "2025-W01",
      databaseUrl: pulumi.secret("postgresql://unused"),
      checks: { expectedTables: [] },
    });
    await new Promise((resolve) => check.urn.apply(resolve));
  }
  if (!provider) throw new Error("the mock runtime received no __provider input");
  writeFileSync(out, provider);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
