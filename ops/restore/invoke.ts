import type { LambdaClient } from "@aws-sdk/client-lambda";
import { classifyAwsError } from "./aws";
import type { ValidationRequest, ValidationResult } from "./validation";

/**
 * Runs a validation: in this process (local drills) or in the validation function (AWS). `signal`
 * is the drill's interruption: an in-process validator stops starting checks; the function's
 * invocation stops being awaited (the function itself runs on until its own timeout).
 */
export type Validator = (request: ValidationRequest, signal?: AbortSignal) => Promise<ValidationResult>;

/**
 * A validator that invokes the validation function inside the VPC and waits for its answer
 * (RequestResponse: the function's 15-minute limit bounds it). The request, one-time password
 * included, travels only in the Invoke payload over TLS; the function never logs it and nothing
 * stores it. A function error (a crash, a timeout) is a failed validation, not an exception.
 */
export function lambdaValidator(functionName: string, client: LambdaClient): Validator {
  return async (request, signal) => {
    const { InvokeCommand } = require("@aws-sdk/client-lambda") as typeof import("@aws-sdk/client-lambda");
    const started = performance.now();
    const out = await Promise.resolve()
      .then(() => client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: "RequestResponse", Payload: new TextEncoder().encode(JSON.stringify(request)) }), { abortSignal: signal }))
      .catch((error: unknown) => classifyAwsError(`Invoke ${functionName}`, error));
    const text = new TextDecoder().decode(out.Payload ?? new Uint8Array());
    if (out.FunctionError) {
      const detail = (() => {
        try {
          const parsed = JSON.parse(text) as { errorMessage?: string; errorType?: string };
          return `${parsed.errorType ?? out.FunctionError}: ${parsed.errorMessage ?? text}`;
        } catch {
          return text || out.FunctionError;
        }
      })();
      const message = `the validation function ${functionName} failed: ${detail}`;
      return { passed: false, nothingToDrill: false, summary: message, results: [{ check: "validation", status: "fail", detail: message }], rowCounts: {}, notes: [message], durationMs: performance.now() - started };
    }
    return JSON.parse(text) as ValidationResult;
  };
}
