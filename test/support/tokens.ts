import { loadOrderConfig, tokenSettings } from '../../services/order-service/config.js';
import { issueToken, type Principal } from '../../services/order-service/entry-points/http/auth.js';

/**
 * Bearer tokens for the order API, signed with the settings order-service reads (the defaults, or
 * AUTH_JWT_* from the environment when the suite targets an external stack).
 */
const settings = tokenSettings(loadOrderConfig({ PORT: '0', ...process.env }));
const issued = new Map<string, Promise<string>>();

function tokenFor(principal: Principal): Promise<string> {
  const key = `${principal.role}:${principal.subject}`;
  let token = issued.get(key);
  if (!token) {
    token = issueToken(settings, principal);
    issued.set(key, token);
  }
  return token;
}

export const customerToken = (customer: string): Promise<string> => tokenFor({ subject: customer, role: 'customer' });
export const adminToken = (): Promise<string> => tokenFor({ subject: 'operator', role: 'admin' });

/** `Authorization` header for a customer, or for an operator with `'admin'`. */
export async function authHeader(who: string | 'admin'): Promise<{ authorization: string }> {
  return { authorization: `Bearer ${await (who === 'admin' ? adminToken() : customerToken(who))}` };
}
