import type { RequestHandler, Response } from 'express';
import { jwtVerify } from 'jose';
import { TOKEN_ALGORITHM, type Principal, type TokenSettings } from '../../../../shared/auth/tokens.js';
import { compileValidator } from '../../../../shared/contracts/validator.js';
import { CustomerId } from '../../../../shared/contracts/common-schemas.js';
import { ProblemError } from './problem.js';

/**
 * Bearer authentication with signed JWTs (jose). HS256 is the only algorithm accepted: the
 * algorithm is pinned on verification, so a token signed `none` or with another algorithm (the
 * classic confusion attacks) is refused. Tokens carry `sub` (the customer id), `role`
 * (`customer` or `admin`), `iss`, `aud`, `iat` and `exp`; all are required.
 */
export { issueToken, type Principal, type Role, type TokenSettings } from '../../../../shared/auth/tokens.js';

const ALGORITHM = TOKEN_ALGORITHM;
const isCustomerId = compileValidator(CustomerId);

/** Verifies a token; throws a 401 problem for anything but a valid, unexpired one of ours. */
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

// The scheme name is case-insensitive (RFC 9110 §11.1).
const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;

/**
 * Reads the Bearer token, if any, without refusing the request yet: a valid one puts its principal
 * in `res.locals.principal`, a bad one its 401 problem in `res.locals.authError`. Split from
 * {@link requireAuth} so that the rate limiter in between can key on the customer, or on the
 * client's address when there is none (which also limits token guessing).
 */
export function identify(settings: TokenSettings): RequestHandler {
  const key = new TextEncoder().encode(settings.secret);
  return (req, res, next) => {
    const header = req.get('authorization');
    if (header === undefined) return next();
    const match = BEARER.exec(header);
    if (!match) {
      res.locals.authError = new ProblemError('unauthorized', 'the Authorization header must be "Bearer <token>"');
      return next();
    }
    verifyToken(settings, key, match[1]!).then(
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
