import type { Config } from "#src/env.ts";
import { createLogger, type Logger } from "#src/lib/logger.ts";
import type { BreachCheck } from "#src/lib/password-policy.ts";

export const PWNED_RANGE_URL = "https://api.pwnedpasswords.com/range/";
/** How long a signup or password change waits for the corpus before going on without it. */
export const PWNED_TIMEOUT_MS = 1500;

/** PWNED_PASSWORDS_CHECK when set; otherwise on in production, off in development and test. */
export function pwnedCheckEnabled(config: Pick<Config, "ENVIRONMENT" | "PWNED_PASSWORDS_CHECK">): boolean {
  return (config.PWNED_PASSWORDS_CHECK ?? (config.ENVIRONMENT === "production" ? "on" : "off")) === "on";
}

/**
 * Have I Been Pwned's Pwned Passwords range API (k-anonymity, https://haveibeenpwned.com/API/v3#PwnedPasswords):
 * only the first 5 hex characters of the password's SHA-1 leave the Worker; the response lists
 * every breached suffix under that prefix (`SUFFIX:COUNT`), padded with count-0 decoys because of
 * `Add-Padding`. Fails open: a timeout, network error or non-200 logs a warning (never the
 * password or any part of its hash) and answers undefined.
 */
export function pwnedPasswords(logger: Logger, timeoutMs = PWNED_TIMEOUT_MS): BreachCheck {
  return {
    async isBreached(password) {
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", new TextEncoder().encode(password)));
      const hash = [...digest].map((byte) => byte.toString(16).padStart(2, "0")).join("").toUpperCase();
      const suffix = hash.slice(5);
      try {
        const response = await fetch(`${PWNED_RANGE_URL}${hash.slice(0, 5)}`, {
          headers: { "Add-Padding": "true", "User-Agent": "Tend password policy" },
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (!response.ok) {
          logger.log("warn", "pwned passwords check skipped", { reason: "status", status: response.status });
          return undefined;
        }
        for (const line of (await response.text()).split("\n")) {
          const [lineSuffix, count] = line.trim().split(":");
          if (lineSuffix?.toUpperCase() === suffix && Number(count) > 0) return true;
        }
        return false;
      } catch (error) {
        const name = error instanceof Error ? error.name : "unknown";
        logger.log("warn", "pwned passwords check skipped", { reason: name === "TimeoutError" ? "timeout" : "network", error: name });
        return undefined;
      }
    },
  };
}

/** The live check the configuration asks for, or undefined when it is off. */
export function breachCheckFor(config: Config, logger: Logger = createLogger(config.LOG_LEVEL)): BreachCheck | undefined {
  return pwnedCheckEnabled(config) ? pwnedPasswords(logger) : undefined;
}
