import { afterEach, beforeEach, vi } from "vitest";

/** A mail as the Resend adapter sent it. */
export interface SentMail {
  to: string[];
  subject: string;
  text: string;
}

export const RESEND_URL = "https://api.resend.com/emails";

/**
 * Intercepts the Resend API's transactional mail (the real adapter still builds each request) and
 * collects what was sent; every other request goes out for real. Undo with `vi.restoreAllMocks()`.
 */
export function captureMail(options: { outbox?: boolean } = {}): SentMail[] {
  const sent: SentMail[] = [];
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    // The notification outbox's emails carry an Idempotency-Key (its row id): not this test's mail
    // but background work of another file sharing the worker, unless the test asks for them.
    const outbox = new Headers(input instanceof Request ? input.headers : init?.headers).has("Idempotency-Key");
    if (url !== RESEND_URL || (outbox && !options.outbox)) return realFetch(input, init);
    sent.push(JSON.parse(String(init?.body)) as SentMail);
    return Response.json({ id: `mail-${sent.length}` });
  });
  return sent;
}

/**
 * The tokens of the links to `path` mailed to `to`, oldest first, waiting until there are `count`:
 * some mail goes out after the response.
 */
export async function mailedTokens(sent: SentMail[], to: string, path: string, count = 1): Promise<string[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const tokens = sent
      .filter((mail) => mail.to.includes(to) && mail.text.includes(path))
      .flatMap((mail) => /token=([A-Za-z0-9_.~%-]+)/.exec(mail.text)?.[1] ?? [])
      .map((token) => decodeURIComponent(token));
    if (tokens.length >= count) return tokens;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`fewer than ${count} ${path} mails to ${to}`);
}

/**
 * Captures the mail of each test in the file (a fresh list per test, the fetch spy undone after
 * it): `const mailbox = mailPerTest();` then read `mailbox.sent`.
 */
export function mailPerTest(): { readonly sent: SentMail[] } {
  const box = { sent: [] as SentMail[] };
  beforeEach(() => {
    box.sent = captureMail();
  });
  afterEach(() => vi.restoreAllMocks());
  return box;
}
