// What the bench needs from Tend's API before measuring: an account (through signup) and the
// rate limits in force (from the RateLimit-Policy header).
export const PASSWORD = "bench correct horse battery";

export interface Account {
  email: string;
  accessToken: string;
}

/** q from `RateLimit-Policy: "reads";q=600;w=60`, or Infinity when the header is absent. */
export function policyLimit(response: Response): number {
  const match = /;q=(\d+)/.exec(response.headers.get("RateLimit-Policy") ?? "");
  return match?.[1] ? Number(match[1]) : Number.POSITIVE_INFINITY;
}

async function failure(what: string, response: Response): Promise<Error> {
  const body = (await response.text()).slice(0, 300);
  if (response.status === 404) return new Error(`${what} answered 404: is the auth feature mounted (src/routes.ts, FEATURE:auth)? ${body}`);
  return new Error(`${what} answered ${response.status}: ${body}`);
}

/** POST /api/v1/auth/signup with a unique email; expects 201 and `tokens.accessToken`. */
export async function signup(base: string, label: string): Promise<Account & { authLimit: number }> {
  const email = `bench-${Date.now().toString(36)}-${label}@example.com`;
  const response = await fetch(`${base}/api/v1/auth/signup`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ organizationName: `Bench ${label}`, name: `Bench ${label}`, email, password: PASSWORD }),
  });
  if (response.status !== 201) throw await failure("POST /api/v1/auth/signup", response);
  const body = (await response.json()) as { tokens?: { accessToken?: unknown } };
  const accessToken = body.tokens?.accessToken;
  if (typeof accessToken !== "string") throw new Error("signup answered 201 without tokens.accessToken");
  return { email, accessToken, authLimit: policyLimit(response) };
}

/** The per-user reads limit, read off one GET /api/v1/me. */
export async function readsLimit(base: string, account: Account): Promise<number> {
  const response = await fetch(`${base}/api/v1/me`, { headers: { Authorization: `Bearer ${account.accessToken}` } });
  if (!response.ok) throw await failure("GET /api/v1/me", response);
  return policyLimit(response);
}
