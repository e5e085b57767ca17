import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { RUNBOOK_ALARMS } from "../runbook";
import { configTable } from "../scripts/config-table";
import { ROOT } from "./support/harness";

const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");

describe("README", () => {
  it("holds the config table generated from the schema and the stack files", () => {
    const block = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(readme)?.[1];
    expect(block, "run `npm run config:table` and paste it between the markers").toBe(configTable());
  });

  it("states every runbook alarm with its threshold and route", () => {
    for (const alarm of RUNBOOK_ALARMS) {
      expect(readme).toContain(`\`${alarm.runbookLine}\``);
    }
  });

  it("gives the quick start's two commands", () => {
    expect(readme).toContain("npm ci && npm start");
    expect(readme).toMatch(/^npm test\b/m);
  });
});
