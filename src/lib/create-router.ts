import { OpenAPIHono } from "@hono/zod-openapi";
import type { ZodError } from "zod";
import { type FieldError, ValidationFailed } from "#src/lib/errors.ts";
import type { AppEnv } from "#src/lib/types.ts";

/** Every router is built here, so every validation failure has the same 422 problem shape. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    // "/me/" routes like "/me".
    strict: false,
    defaultHook: (result) => {
      if (!result.success) throw ValidationFailed(fieldErrors(result.error, result.target));
    },
  });
}

const TARGET_PREFIX: Record<string, string> = { json: "body", form: "body", query: "query", param: "path" };

/** One entry per failing field, unknown keys listed by name. */
export function fieldErrors(error: ZodError, target: string): FieldError[] {
  const prefix = TARGET_PREFIX[target] ?? target;
  return error.issues.flatMap((issue) => {
    const base = [prefix, ...issue.path.map(String)].join(".");
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ path: `${base}.${key}`, message: "is not a known field" }));
    }
    return [{ path: base, message: issue.message }];
  });
}
