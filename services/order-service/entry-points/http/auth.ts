import type { RequestHandler, Response } from 'express';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { TOKEN_ALGORITHM, type Principal, type TokenSettings } from '../../../../shared/auth/tokens.js';
import { compileValidator } from '../../../../shared/contracts/validator.js';
import { CustomerId } from '../../../../shared/contracts/common-schemas.js';
import { Counter } from 'prom-client';
import type { Logger } from '../../../../shared/logging/logger.js';
import type { MetricsRegistry } from '../../../../shared/observability/metrics.js';
import { ProblemError } from './problem.js';
import { IdentityProviderVerifier, isIdentityProviderError, type IdentityProviderSettings } from './identity-provider.js';

/**
 * Bearer authentication with signed JWTs (jose), from two issuers:
 * - ours: HS256 with AUTH_JWT_SECRET (`npm run token`, and payment-service's calls), carrying
 *   `sub` (the customer id), `role` (`customer` or `admin`), `iss`, `aud`, `iat` and `exp`;
 * - the shop's identity provider, when AUTH_JWKS_URL is set: its public-key algorithms only,
 *   checked against its published key set (see identity-provider.ts).
 * The token's `alg` picks the issuer, and each verification pins its own algorithms, so a token
 * signed `none`, or with HS256 and a public key as the secret (the classic confusion attacks), is
 * refused.
 */
export { issueToken, type Principal, type Role, type TokenSettings } from '../../../../shared/auth/tokens.js';

const ALGORITHM = TOKEN_ALGORITHM;
const isCustomerId = compileValidator(CustomerId);

export interface TokenVerifier {
  /** The token's principal; throws a 401 problem (503 when the provider's keys cannot be had). */
  verify(token: string): Promise<Principal>;
}

/** Verifies a token of ours; throws a 401 problem for anything but a valid, unexpired one. */
export async function verifyToken(settings: TokenSettings, key: Uint8Array, token: string): Promise<Principal> {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: [ALGORITHM],
      issuer: settings.issuer,
      audience: settings.audience,
      requiredClaims: ['sub', 'exp', 'iat'],
      clockTolerance: 5,
    }));
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new ProblemError('unauthorized', code === 'ERR_JWT_EXPIRED' ? 'the token has expired' : 'the token is not valid');
  }
  const role = payload.role;
  if ((role !== 'customer' && role !== 'admin') || !isCustomerId(payload.sub).ok) {
    throw new ProblemError('unauthorized', 'the token is not valid');
  }
  return { subject: payload.sub as string, role };
}

/**
 * The verifier of both issuers (the provider's only when its settings are given). With a provider,
 * its key set is fetched once now, so that a wrong URL shows in the log at start; a provider that
 * cannot be reached yet does not stop the start (its tokens get 503 until it can).
 */
export async function startTokenVerifier(
  settings: TokenSettings,
  provider: IdentityProviderSettings | undefined,
  logger: Logger,
  registry?: MetricsRegistry,
): Promise<TokenVerifier> {
  if (provider === undefined) return tokenVerifier(settings);
  const fetches = new Counter({
    name: 'auth_key_set_fetches_total',
    help: "Fetches of the identity provider's key set (JWKS), by outcome: at start, on a token with an unknown kid (at most once per cooldown), when the cached set is old.",
    labelNames: ['outcome'],
    registers: registry ? [registry] : [],
  });
  const external = new IdentityProviderVerifier(
    provider,
    (value) => isCustomerId(value).ok,
    (outcome) => fetches.inc({ outcome }),
  );
  try {
    logger.info('identity provider key set loaded', { url: provider.jwksUrl.href, keys: await external.load() });
  } catch (error) {
    logger.warn('identity provider key set not loaded yet: its tokens are answered 503 until it can be fetched', { url: provider.jwksUrl.href, error });
  }
  return tokenVerifier(settings, external);
}

export function tokenVerifier(settings: TokenSettings, external?: IdentityProviderVerifier): TokenVerifier {
  const key = new TextEncoder().encode(settings.secret);
  return {
    async verify(token) {
      let alg: unknown;
      try {
        alg = decodeProtectedHeader(token).alg;
      } catch {
        throw new ProblemError('unauthorized', 'the token is not valid');
      }
      if (alg === ALGORITHM || external === undefined) return verifyToken(settings, key, token);
      try {
        return await external.verify(token);
      } catch (error) {
        if (!isIdentityProviderError(error)) throw error;
        if (error.code === 'unavailable') throw new ProblemError('service_unavailable', 'the identity provider’s keys cannot be fetched; try again later');
        throw new ProblemError('unauthorized', error.code === 'expired' ? 'the token has expired' : error.message);
      }
    },
  };
}

// The scheme name is case-insensitive (RFC 9110 §11.1).
const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;

/**
 * Reads the Bearer token, if any, without refusing the request yet: a valid one puts its principal
 * in `res.locals.principal`, a bad one its 401 problem in `res.locals.authError`. Split from
 * {@link requireAuth} so that the rate limiter in between can key on the customer, or on the
 * client's address when there is none (which also limits token guessing).
 */
export function identify(verifier: TokenVerifier): RequestHandler {
  return (req, res, next) => {
    const header = req.get('authorization');
    if (header === undefined) return next();
    const match = BEARER.exec(header);
    if (!match) {
      res.locals.authError = new ProblemError('unauthorized', 'the Authorization header must be "Bearer <token>"');
      return next();
    }
    verifier.verify(match[1]!).then(
      (principal) => {
        res.locals.principal = principal;
        next();
      },
      (error: unknown) => {
        res.locals.authError = error;
        next();
      },
    );
  };
}

/** Refuses a request without a valid token: 401 with `WWW-Authenticate: Bearer`. */
export const requireAuth: RequestHandler = (_req, res, next) => {
  if (res.locals.principal) return next();
  res.setHeader('WWW-Authenticate', 'Bearer realm="order-api"');
  next(res.locals.authError ?? new ProblemError('unauthorized', 'a Bearer token is required'));
};

export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new Error('no principal: authenticate() must run before this handler');
  return principal;
}

/** Lets only admins through (403 for a customer). */
export const requireAdmin: RequestHandler = (_req, res, next) => {
  next(principalOf(res).role === 'admin' ? undefined : new ProblemError('forbidden', 'operations endpoints are for admins only'));
};
