import { Type } from '@sinclair/typebox';
import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTPayload } from 'jose';
import { isLoopback } from '../../../../shared/config/secrets.js';
import type { Principal } from '../../../../shared/auth/tokens.js';

/**
 * Tokens issued by the shop's identity provider (Keycloak, Auth0, Cognito, …), checked against the
 * key set it publishes (JWKS) through jose: the key is picked by the token's `kid` and `alg`, an
 * unknown `kid` fetches the set again (keys rotate) at most once per cooldown, and only the
 * algorithms listed here are accepted — never an HMAC one, so a token "signed" with the provider's
 * public key as an HMAC secret (algorithm confusion) cannot pass.
 */
export const identityProviderEnv = {
  /** The provider's JWKS URL (`https://…/.well-known/jwks.json`, Keycloak `…/protocol/openid-connect/certs`). Empty: off. */
  AUTH_JWKS_URL: Type.String({ default: '' }),
  /** The `iss` the provider's tokens carry (required with AUTH_JWKS_URL). */
  AUTH_JWKS_ISSUER: Type.String({ default: '' }),
  /** The `aud` the provider's tokens must carry for this API (required with AUTH_JWKS_URL). */
  AUTH_JWKS_AUDIENCE: Type.String({ default: '' }),
  /** The signature algorithms accepted (comma-separated, asymmetric only). */
  AUTH_JWKS_ALGORITHMS: Type.String({ default: 'RS256,ES256,EdDSA' }),
  /** After a fetch of the key set, how long an unknown `kid` waits before it may cause another (ms). */
  AUTH_JWKS_COOLDOWN_MS: Type.Integer({ default: 30_000, minimum: 0 }),
  /** How long a fetched key set is used before it is fetched again (ms). */
  AUTH_JWKS_CACHE_MAX_AGE_MS: Type.Integer({ default: 600_000, minimum: 1_000 }),
  /** How long a fetch of the key set may take (ms). */
  AUTH_JWKS_TIMEOUT_MS: Type.Integer({ default: 5_000, minimum: 100 }),
  /** The claim holding the customer id (a path such as `ext.customer_id` reaches into objects). */
  AUTH_CUSTOMER_CLAIM: Type.String({ default: 'sub', minLength: 1 }),
  /** The claim holding the caller's role or roles (a string or an array; Keycloak: `realm_access.roles`, Cognito: `cognito:groups`). */
  AUTH_ROLES_CLAIM: Type.String({ default: 'role', minLength: 1 }),
  /** The role among those that makes the caller an admin; any other caller is a customer. */
  AUTH_ADMIN_ROLE: Type.String({ default: 'admin', minLength: 1 }),
};

/** JWS algorithms of public keys: the only ones a key set from elsewhere may sign with. */
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

export interface IdentityProviderSettings {
  jwksUrl: URL;
  issuer: string;
  audience: string;
  algorithms: string[];
  cooldownMs: number;
  cacheMaxAgeMs: number;
  timeoutMs: number;
  customerClaim: string;
  rolesClaim: string;
  adminRole: string;
}

type IdentityProviderConfig = { [K in keyof typeof identityProviderEnv]: (typeof identityProviderEnv)[K]['static'] };

/**
 * The settings, or undefined when AUTH_JWKS_URL is empty; `problems` gets a line per variable
 * that cannot work (missing issuer or audience, an HMAC or unknown algorithm, a key set fetched in
 * clear text from another host, which anyone on the path could replace with keys of their own).
 */
export function identityProviderSettings(config: IdentityProviderConfig, problems: string[]): IdentityProviderSettings | undefined {
  if (config.AUTH_JWKS_URL === '') return undefined;
  let jwksUrl: URL | undefined;
  try {
    jwksUrl = new URL(config.AUTH_JWKS_URL);
  } catch {
    problems.push(`AUTH_JWKS_URL: not a URL: ${config.AUTH_JWKS_URL}`);
  }
  if (jwksUrl && jwksUrl.protocol !== 'https:' && !(jwksUrl.protocol === 'http:' && isLoopback(jwksUrl.hostname))) {
    problems.push(`AUTH_JWKS_URL: the key set must be fetched over https (http only from a loopback address): ${config.AUTH_JWKS_URL}`);
  }
  if (config.AUTH_JWKS_ISSUER === '') problems.push('AUTH_JWKS_ISSUER: required with AUTH_JWKS_URL (the iss of the provider’s tokens)');
  if (config.AUTH_JWKS_AUDIENCE === '') problems.push('AUTH_JWKS_AUDIENCE: required with AUTH_JWKS_URL (the aud the provider’s tokens carry for this API)');
  const algorithms = config.AUTH_JWKS_ALGORITHMS.split(',').map((name) => name.trim()).filter(Boolean);
  const refused = algorithms.filter((name) => !ASYMMETRIC.includes(name));
  if (algorithms.length === 0 || refused.length > 0) {
    problems.push(`AUTH_JWKS_ALGORITHMS: only public-key algorithms (${ASYMMETRIC.join(', ')}) may be listed${refused.length ? `, not ${refused.join(', ')}` : ''}`);
  }
  if (!jwksUrl) return undefined;
  return {
    jwksUrl,
    issuer: config.AUTH_JWKS_ISSUER,
    audience: config.AUTH_JWKS_AUDIENCE,
    algorithms,
    cooldownMs: config.AUTH_JWKS_COOLDOWN_MS,
    cacheMaxAgeMs: config.AUTH_JWKS_CACHE_MAX_AGE_MS,
    timeoutMs: config.AUTH_JWKS_TIMEOUT_MS,
    customerClaim: config.AUTH_CUSTOMER_CLAIM,
    rolesClaim: config.AUTH_ROLES_CLAIM,
    adminRole: config.AUTH_ADMIN_ROLE,
  };
}

/** Why a provider's token was not accepted: `invalid` (401) or `unavailable` (the key set could not be fetched: 503). */
export class IdentityProviderError extends Error {
  constructor(
    readonly code: 'invalid' | 'expired' | 'unavailable',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isIdentityProviderError(error: unknown): error is IdentityProviderError {
  return error instanceof IdentityProviderError;
}

/** A claim by name, or by a dotted path when no claim has the whole name (names such as `https://shop.example/roles` contain dots). */
export function claimAt(payload: JWTPayload, name: string): unknown {
  if (name in payload) return payload[name];
  let value: unknown = payload;
  for (const part of name.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** Verifies tokens against the provider's key set and maps their claims to a principal. */
export class IdentityProviderVerifier {
  private readonly keys: ReturnType<typeof createRemoteJWKSet>;

  constructor(
    private readonly settings: IdentityProviderSettings,
    private readonly isCustomerId: (value: unknown) => boolean,
    /** Told of every fetch of the key set (at start, on an unknown `kid`, when the cache is old). */
    onFetch: (outcome: 'success' | 'failure') => void = () => {},
  ) {
    this.keys = createRemoteJWKSet(settings.jwksUrl, {
      cooldownDuration: settings.cooldownMs,
      cacheMaxAge: settings.cacheMaxAgeMs,
      timeoutDuration: settings.timeoutMs,
      [customFetch]: async (url, options) => {
        try {
          const response = await fetch(url, options);
          onFetch(response.ok ? 'success' : 'failure');
          return response;
        } catch (error) {
          onFetch('failure');
          throw error;
        }
      },
    });
  }

  /** Fetches the key set now (at start, to report a wrong URL early); resolves to the number of keys. */
  async load(): Promise<number> {
    await this.keys.reload();
    return this.keys.jwks()?.keys.length ?? 0;
  }

  async verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        algorithms: this.settings.algorithms,
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        requiredClaims: ['exp'],
        clockTolerance: 5,
      }));
    } catch (error) {
      throw toIdentityProviderError(error);
    }
    const subject = claimAt(payload, this.settings.customerClaim);
    if (typeof subject !== 'string' || !this.isCustomerId(subject)) {
      throw new IdentityProviderError('invalid', `the token's ${this.settings.customerClaim} claim is not a customer id`);
    }
    const roles = claimAt(payload, this.settings.rolesClaim);
    const isAdmin = Array.isArray(roles) ? roles.includes(this.settings.adminRole) : roles === this.settings.adminRole;
    return { subject, role: isAdmin ? 'admin' : 'customer' };
  }
}

/** The key set could not be had (network, timeout, not a 200 with a key set): not the token's fault. */
function toIdentityProviderError(error: unknown): IdentityProviderError {
  if (error instanceof errors.JWTExpired) return new IdentityProviderError('expired', 'the token has expired', { cause: error });
  const unavailable =
    error instanceof errors.JWKSTimeout ||
    error instanceof errors.JWKSInvalid ||
    (error instanceof errors.JOSEError && /JSON Web Key Set HTTP response/.test(error.message)) ||
    (error instanceof TypeError && /fetch failed/.test(error.message));
  if (unavailable) return new IdentityProviderError('unavailable', 'the identity provider’s key set could not be fetched', { cause: error });
  return new IdentityProviderError('invalid', 'the token is not valid', { cause: error });
}
