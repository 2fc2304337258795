import { Type } from '@sinclair/typebox';
import { SignJWT } from 'jose';

/**
 * The order API's Bearer tokens: HS256 JWTs with `sub`, `role`, `iss`, `aud`, `iat` and `exp`.
 * order-service verifies them; `npm run token` and payment-service (which asks order-service about
 * orders during reconciliation) sign them with the same settings.
 */
export type Role = 'customer' | 'admin';

export interface Principal {
  /** The customer the request acts for; for an admin, its own subject. */
  subject: string;
  role: Role;
}

export interface TokenSettings {
  /** Shared HMAC secret (≥ 32 characters). */
  secret: string;
  issuer: string;
  audience: string;
}

/** The token settings' variables, for the config schema of every service that signs or checks tokens. */
export const authEnv = {
  /** Secret: the HMAC key tokens are signed with. The default is for local use only. */
  AUTH_JWT_SECRET: Type.String({ default: 'local-only-order-api-signing-key-0123456789', minLength: 32 }),
  AUTH_JWT_ISSUER: Type.String({ default: 'order-platform', minLength: 1 }),
  AUTH_JWT_AUDIENCE: Type.String({ default: 'order-api', minLength: 1 }),
};

export function tokenSettings(config: { AUTH_JWT_SECRET: string; AUTH_JWT_ISSUER: string; AUTH_JWT_AUDIENCE: string }): TokenSettings {
  return { secret: config.AUTH_JWT_SECRET, issuer: config.AUTH_JWT_ISSUER, audience: config.AUTH_JWT_AUDIENCE };
}

export const TOKEN_ALGORITHM = 'HS256';

export async function issueToken(settings: TokenSettings, principal: Principal, ttlSeconds = 3_600): Promise<string> {
  return new SignJWT({ role: principal.role })
    .setProtectedHeader({ alg: TOKEN_ALGORITHM, typ: 'JWT' })
    .setSubject(principal.subject)
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(new TextEncoder().encode(settings.secret));
}
