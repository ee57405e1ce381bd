import { z } from "@hono/zod-openapi";

/** Whether the runtime's ICU knows the IANA zone name. */
export function isTimeZone(name: string): boolean {
  try {
    return new Intl.DateTimeFormat("en", { timeZone: name }).resolvedOptions().timeZone.length > 0;
  } catch {
    return false;
  }
}

export const TimeZoneSchema = z
  .string()
  .min(1)
  .max(64)
  .refine(isTimeZone, "is not an IANA time zone")
  .openapi({ example: "Europe/Berlin" });
