import type { Context } from "hono";
import type { AppEnv } from "#src/lib/types.ts";

/** Where an audited request came from. Apart from src/lib/audit.ts, which needs the tables: every request builds one. */
export interface AuditOrigin {
  ip: string | null;
  userAgent: string | null;
  requestId: string;
}

export function auditOrigin(c: Pick<Context<AppEnv>, "req" | "get">): AuditOrigin {
  return {
    ip: c.req.header("CF-Connecting-IP") ?? null,
    userAgent: c.req.header("User-Agent")?.slice(0, 256) ?? null,
    requestId: c.get("requestId"),
  };
}
