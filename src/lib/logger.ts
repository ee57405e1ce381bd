/**
 * One JSON line per event. Callers pass only operational fields (ids, route patterns, statuses,
 * durations): never bodies, query values, tokens or anything about a patient.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  log(level: LogLevel, message: string, fields?: LogFields): void;
}

export function createLogger(minLevel: LogLevel, base: LogFields = {}): Logger {
  return {
    log(level, message, fields = {}) {
      if (RANK[level] < RANK[minLevel]) return;
      const line = JSON.stringify({ time: new Date().toISOString(), level, message, ...base, ...fields });
      if (level === "error") console.error(line);
      else console.log(line);
    },
  };
}
