import { type CryptoKey as JoseKey, type JWK, importJWK, jwtVerify, SignJWT } from "jose";
import type { Config } from "#src/env.ts";
import type { Role } from "#src/db/schema/identity.ts";
import { Unauthorized } from "#src/lib/errors.ts";
import { uuidv7 } from "#src/lib/ids.ts";

/**
 * Short-lived ES256 JWTs (jose). `typ` tells an access token from an MFA token, so neither can
 * stand in for the other; refresh tokens are opaque and never JWTs. Verification pins the
 * algorithm and requires iss, aud, exp and typ, with 60 s of clock skew at most.
 */
export const ALGORITHM = "ES256";
export const CLOCK_SKEW_SECONDS = 60;
export const MFA_TOKEN_TTL_SECONDS = 300;

export type TokenType = "access" | "mfa";

export interface AccessClaims {
  sub: string;
  org: string;
  role: Role;
  jti: string;
  iat: number;
  exp: number;
  /** The session (refresh-token family) the token belongs to: logout ends exactly that one. */
  sid?: string;
}

export interface MfaClaims {
  sub: string;
  /** Absent when the organization is chosen at the MFA step (several memberships). */
  org?: string;
  jti: string;
}

interface Keyset {
  signing: { kid: string; key: JoseKey | Uint8Array };
  verifying: Map<string, JoseKey | Uint8Array>;
  jwks: JWK[];
}

const keysets = new WeakMap<Config, Promise<Keyset>>();

async function loadKeyset(config: Config): Promise<Keyset> {
  const verifying = new Map<string, JoseKey | Uint8Array>();
  const jwks: JWK[] = [];
  for (const jwk of config.JWT_PRIVATE_KEYS) {
    const { d: _private, ...publicJwk } = jwk;
    verifying.set(jwk.kid, await importJWK({ ...publicJwk, alg: ALGORITHM }, ALGORITHM));
    jwks.push({ kty: "EC", crv: "P-256", x: String(jwk.x), y: String(jwk.y), kid: jwk.kid, alg: ALGORITHM, use: "sig" });
  }
  const newest = config.JWT_PRIVATE_KEYS[0];
  if (!newest) throw new Error("no signing key");
  return { signing: { kid: newest.kid, key: await importJWK({ ...newest, alg: ALGORITHM }, ALGORITHM) }, verifying, jwks };
}

function keyset(config: Config): Promise<Keyset> {
  let loaded = keysets.get(config);
  if (!loaded) {
    loaded = loadKeyset(config);
    keysets.set(config, loaded);
  }
  return loaded;
}

async function sign(config: Config, claims: Record<string, unknown>, subject: string, ttlSeconds: number): Promise<string> {
  const { signing } = await keyset(config);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: ALGORITHM, kid: signing.kid, typ: "JWT" })
    .setIssuer(config.JWT_ISSUER)
    .setAudience(config.JWT_AUDIENCE)
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .setJti(uuidv7())
    .sign(signing.key);
}

/** `sessionId` names the session (refresh-token family); every sign-in path gives one, test fixtures may not. */
export function signAccessToken(config: Config, input: { userId: string; organizationId: string; role: Role; sessionId?: string }) {
  const claims = { org: input.organizationId, role: input.role, typ: "access", ...(input.sessionId ? { sid: input.sessionId } : {}) };
  return sign(config, claims, input.userId, config.ACCESS_TOKEN_TTL_SECONDS);
}

export function signMfaToken(config: Config, input: { userId: string; organizationId?: string | undefined }) {
  const claims = input.organizationId === undefined ? { typ: "mfa" } : { org: input.organizationId, typ: "mfa" };
  return sign(config, claims, input.userId, MFA_TOKEN_TTL_SECONDS);
}

const BASE_CLAIMS = ["iss", "aud", "exp", "iat", "sub", "jti", "typ"];
/** Access tokens always name their organization; an MFA token may leave it to the MFA step. */
const REQUIRED_CLAIMS: Record<TokenType, string[]> = { access: [...BASE_CLAIMS, "org"], mfa: BASE_CLAIMS };

async function verify(config: Config, token: string, typ: TokenType) {
  const { verifying } = await keyset(config);
  try {
    const { payload } = await jwtVerify(
      token,
      (header) => {
        const key = header.kid ? verifying.get(header.kid) : undefined;
        if (!key) throw new Error("unknown key");
        return key;
      },
      {
        algorithms: [ALGORITHM],
        issuer: config.JWT_ISSUER,
        audience: config.JWT_AUDIENCE,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: REQUIRED_CLAIMS[typ],
      },
    );
    if (payload.typ !== typ) throw new Error("wrong token type");
    if (payload.org !== undefined && typeof payload.org !== "string") throw new Error("malformed org");
    if (payload.sid !== undefined && typeof payload.sid !== "string") throw new Error("malformed sid");
    return payload;
  } catch {
    throw Unauthorized("The token is invalid or expired.");
  }
}

/**
 * Access tokens this isolate has verified, per configuration (so a key rotation starts afresh),
 * oldest first: a member's next requests skip the ES256 signature check and jose's parsing. What
 * a later check could refuse is only time, so a hit still has to be unexpired, with jose's test
 * (`exp > now - skew`, in whole seconds). Revocation is the limiter's check, not this one's.
 */
const verifiedAccess = new WeakMap<Config, Map<string, AccessClaims>>();
const VERIFIED_KEPT = 1000;

export async function verifyAccessToken(config: Config, token: string): Promise<AccessClaims> {
  let verified = verifiedAccess.get(config);
  const known = verified?.get(token);
  if (known && known.exp > Math.floor(Date.now() / 1000) - CLOCK_SKEW_SECONDS) return { ...known };
  const claims = (await verify(config, token, "access")) as unknown as AccessClaims;
  if (!verified) {
    verified = new Map();
    verifiedAccess.set(config, verified);
  }
  if (verified.size >= VERIFIED_KEPT) verified.delete(verified.keys().next().value as string);
  verified.set(token, { ...claims });
  return claims;
}

export async function verifyMfaToken(config: Config, token: string): Promise<MfaClaims> {
  const payload = await verify(config, token, "mfa");
  return { sub: String(payload.sub), jti: String(payload.jti), ...(payload.org === undefined ? {} : { org: payload.org as string }) };
}

/** The public half of every configured key, for /.well-known/jwks.json. */
export async function publicJwks(config: Config): Promise<JWK[]> {
  return (await keyset(config)).jwks;
}

/** Milliseconds since the epoch at which a token was issued, from its UUIDv7 `jti`. */
export function issuedAtMs(jti: string): number {
  return Number.parseInt(jti.replace(/-/g, "").slice(0, 12), 16);
}
