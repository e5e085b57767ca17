import { InvalidArgumentError } from "commander";
import { parseBaseUrl } from "./http";

/** Commander parsers shared by the ops CLIs: bad input is a usage error that names the fix. */

export function timeoutOption(value: string): number {
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 100 || ms > 120_000) throw new InvalidArgumentError("a whole number of milliseconds from 100 to 120000");
  return ms;
}

export function baseUrlOption(value: string): string {
  try {
    return parseBaseUrl(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}
