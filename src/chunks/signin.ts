// The `signin` chunk of the deployed bundle (src/routes.ts): signing in: sign-up, login, tokens, MFA, the JWKS.
export { authRouter } from "#src/features/auth/auth.index.ts";
export { mfaRouter } from "#src/features/mfa/mfa.index.ts";
export { jwksRouter } from "#src/features/jwks/jwks.index.ts";
