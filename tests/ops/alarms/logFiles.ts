import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

/**
 * Builds replay inputs the way the application writes them (the log contract's lines) and the way
 * CloudWatch exports AWS metrics (CSV rows), around a fixed start aligned to five minutes.
 */

const T0 = Date.parse("2026-11-30T10:00:00.000Z");
export const at = (minute: number, second = 0): string => new Date(T0 + minute * 60_000 + second * 1000).toISOString();

type Line = { t: number; record: Record<string, unknown> };

export class LogFile {
  private readonly lines: Line[] = [];
  private seq = 0;

  private push(minute: number, second: number, record: Record<string, unknown>): this {
    this.lines.push({ t: T0 + minute * 60_000 + second * 1000 + this.seq++ / 1000, record: { time: at(minute, second), level: "info", ...record } });
    return this;
  }

  /** `perMinute` http_request lines in each minute of [from, to), `errors` of them with status 503. */
  traffic(from: number, to: number, perMinute: number, errors = 0): this {
    for (let m = from; m < to; m++) {
      for (let i = 0; i < perMinute; i++) {
        const second = Math.floor((i * 60) / perMinute);
        this.push(m, second, { event: "http_request", requestId: `r-${m}-${i}`, method: "GET", path: "/api/orders/:id", status: i < errors ? 503 : 200, durationMs: 12.5 });
      }
    }
    return this;
  }

  /** A worker_lag line at second 30 of each minute of [from, to). */
  lag(from: number, to: number, workerLagMs: number): this {
    for (let m = from; m < to; m++) this.push(m, 30, { event: "worker_lag", workerLagMs });
    return this;
  }

  /** The end of one worker run with the streak the worker counted. */
  run(minute: number, outcome: "succeeded" | "failed", consecutiveFailures: number, job = "send-invoices"): this {
    return this.push(minute, 45, { event: "worker_run", job, outcome, consecutiveFailures, durationMs: 1200 });
  }

  /** `count` db_connectivity_failure lines in one minute, written by the API or the worker. */
  dbFailures(minute: number, count: number, source: "api" | "worker"): this {
    for (let i = 0; i < count; i++) this.push(minute, 10 + i, { "@log": source, event: "db_connectivity_failure", level: "error", error: "connect ETIMEDOUT" });
    return this;
  }

  /** `count` webhook_invalid_signature lines in one minute. */
  invalidSignatures(minute: number, count: number): this {
    for (let i = 0; i < count; i++) this.push(minute, Math.floor((i * 59) / Math.max(count, 1)), { event: "webhook_invalid_signature", requestId: `w-${minute}-${i}`, path: "/webhooks/stripe" });
    return this;
  }

  /** A line as given (for bad-input cases), in time order with the rest. */
  raw(minute: number, text: string): this {
    this.lines.push({ t: T0 + minute * 60_000 + this.seq++ / 1000, record: { __raw: text } });
    return this;
  }

  write(dir: string, name = "logs.jsonl"): string {
    const file = path.join(dir, name);
    const sorted = [...this.lines].sort((a, b) => a.t - b.t);
    writeFileSync(file, `${sorted.map((l) => ("__raw" in l.record ? String(l.record.__raw) : JSON.stringify(l.record))).join("\n")}\n`);
    return file;
  }
}

/** CSV rows `time,namespace,metric,dimensions,value`, one per minute of [from, to). */
export class MetricsFile {
  private readonly rows: string[] = ["time,namespace,metric,dimensions,value"];

  series(from: number, to: number, namespace: string, metric: string, dimensions: string, value: (minute: number) => number): this {
    for (let m = from; m < to; m++) this.rows.push(`${at(m, 5)},${namespace},${metric},${dimensions},${value(m)}`);
    return this;
  }

  write(dir: string, name = "metrics.csv"): string {
    const file = path.join(dir, name);
    const header = this.rows[0] as string;
    const body = this.rows.slice(1).sort();
    writeFileSync(file, `${[header, ...body].join("\n")}\n`);
    return file;
  }
}

export function scratchDir(): string {
  return mkdtempSync(path.join(tmpdir(), "alarms-replay-"));
}
