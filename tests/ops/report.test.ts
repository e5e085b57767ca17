import { describe, expect, it, vi } from "vitest";
import { exitCodeFor, printReport, renderTable, timed } from "../../ops/lib/report";

describe("ops report", () => {
  it("renders one row per check and a summary line", () => {
    const text = renderTable([
      { check: "GET /health/live", status: "pass", detail: "200 in 12 ms", durationMs: 12.4 },
      { check: "GET /health/ready", status: "fail", detail: "503: database unreachable" },
    ]);
    expect(text).toContain("GET /health/live");
    expect(text).toContain("FAIL");
    expect(text).toContain("503: database unreachable");
    expect(text.trim().split("\n").at(-1)).toBe("2 checks: 1 without failure, 1 failed");
  });

  it("exits non-zero only when a check failed", () => {
    expect(exitCodeFor([{ check: "a", status: "warn", detail: "" }])).toBe(0);
    expect(exitCodeFor([{ check: "a", status: "pass", detail: "" }, { check: "b", status: "fail", detail: "" }])).toBe(1);
  });

  it("turns a thrown error into a failed row with its message", async () => {
    const result = await timed("redis PING", async () => {
      throw new Error("connect ECONNREFUSED 127.0.0.1:6379");
    });
    expect(result).toMatchObject({ check: "redis PING", status: "fail", detail: "connect ECONNREFUSED 127.0.0.1:6379" });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("prints JSON with the command, target, results and exit code, or the table, and returns the exit code", async () => {
    const written: string[] = [];
    const write = vi.spyOn(process.stdout, "write").mockImplementation(((text: string, done?: () => void) => {
      written.push(text);
      done?.();
      return true;
    }) as typeof process.stdout.write);
    try {
      const results = [{ check: "GET /health/ready", status: "fail" as const, detail: "503" }];
      const report = { command: "incident-check", title: "Incident check: https://api.example.com", target: { baseUrl: "https://api.example.com" } };
      expect(await printReport(results, { ...report, json: true })).toBe(1);
      expect(JSON.parse(written[0] as string)).toEqual({ command: "incident-check", baseUrl: "https://api.example.com", results, exitCode: 1 });
      expect(await printReport([], { ...report, json: false })).toBe(0);
      expect(written[1]).toBe(`${renderTable([], report.title)}\n`);
    } finally {
      write.mockRestore();
    }
  });
});
