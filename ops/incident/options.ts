import { InvalidArgumentError } from "commander";
import { CliError } from "../lib/cli";
import { parseBaseUrl } from "./http";

/** Commander parsers shared by the ops CLIs: bad input is a usage error that names the fix. */

export function timeoutOption(value: string): number {
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 100 || ms > 120_000) throw new InvalidArgumentError("a whole number of milliseconds from 100 to 120000");
  return ms;
}

/**
 * `--base-url`, checked when parsed. Its refusal is a CliError (exit 2) rather than commander's
 * InvalidArgumentError, whose message would quote the value, credentials and all.
 * @throws CliError saying what is wrong, without the value
 */
export function baseUrlOption(value: string): string {
  try {
    return parseBaseUrl(value);
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error));
  }
}
