import { execFileSync } from "node:child_process";
import { describe, expect, it, vi } from "vitest";
import type { LogFields, LogLevel } from "../../src/lib/logger.ts";
import { curlFor, logMailer, mailLink } from "../../src/platform/mailer.ts";

const config = { APP_URL: "http://localhost:9123" };

describe("mailed links in development", () => {
  it("builds links on APP_URL with its real port, the token encoded", () => {
    expect(mailLink(config, "/reset-password", "a b+c")).toBe("http://localhost:9123/reset-password?token=a+b%2Bc");
    expect(mailLink({ APP_URL: "https://app.tend.care/" }, "/login")).toBe("https://app.tend.care/login");
  });

  it("prints each link's API call as a curl command that a shell runs unchanged", () => {
    const lines: string[] = [];
    const logged: { level: LogLevel; message: string; fields?: LogFields }[] = [];
    const print = vi.spyOn(console, "log").mockImplementation((line: string) => void lines.push(line));
    const token = "v1.k1.abc_DEF-123.xyz";
    void logMailer({ log: (level, message, fields) => void logged.push({ level, message, fields }) }, config).send({
      to: "ada@example.com",
      subject: "Finish signing up to Tend",
      text: mailLink(config, "/signup/confirm", token),
      template: "signup-confirm",
      api: { path: "/api/v1/auth/signup/confirm", body: { token } },
    });
    print.mockRestore();
    const curl = curlFor(config, { path: "/api/v1/auth/signup/confirm", body: { token } });
    expect(lines.join("\n")).toContain(curl);
    expect(logged[0]?.fields?.curl).toBe(curl);
    // The shell hands curl exactly the URL and the JSON body (echo stands in for curl).
    const argv = execFileSync("bash", ["-c", `set -- ${curl.replace(/^curl /, "")}; printf '%s\\n' "$@"`], { encoding: "utf8" }).trim().split("\n");
    expect(argv).toContain("http://localhost:9123/api/v1/auth/signup/confirm");
    expect(JSON.parse(argv.at(-1) ?? "")).toEqual({ token });
  });
});
