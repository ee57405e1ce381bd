// Prints the current TOTP code for a base32 secret (from POST /me/mfa/totp), for the README's
// walk-through: `npm run totp -- <secret>`. Uses the same code as the server.
import { totpAt, totpStep, TOTP_PERIOD_SECONDS } from "../src/lib/totp.ts";

const secret = process.argv[2]?.trim();
if (!secret || !/^[A-Z2-7]+=*$/i.test(secret)) {
  console.error("usage: npm run totp -- <base32 secret from POST /me/mfa/totp>");
  process.exit(2);
}
const step = totpStep();
const code = await totpAt(secret.toUpperCase(), step);
const secondsLeft = TOTP_PERIOD_SECONDS - Math.floor(Date.now() / 1000) % TOTP_PERIOD_SECONDS;
console.log(code);
console.error(`valid for ${secondsLeft} more seconds (and the next 30 s step)`);
