/**
 * Prints a Bearer token for the order API, signed with the same settings order-service reads
 * (AUTH_JWT_SECRET, AUTH_JWT_ISSUER, AUTH_JWT_AUDIENCE):
 *
 *   npm run --silent token -- <customer_id> [--ttl SECONDS]    a customer's token
 *   npm run --silent token -- --admin [--ttl SECONDS]          an operator's token
 */
import { parseArgs } from 'node:util';
import { compileValidator } from '../../shared/contracts/validator.js';
import { CustomerId } from '../../shared/contracts/common-schemas.js';
import { loadOrderConfig, tokenSettings } from '../../services/order-service/config.js';
import { issueToken } from '../../services/order-service/entry-points/http/auth.js';

const USAGE = 'usage: npm run --silent token -- <customer_id> | --admin [--ttl SECONDS]';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { admin: { type: 'boolean', default: false }, ttl: { type: 'string', default: '3600' } },
});
const ttl = Number(values.ttl);
const customer = positionals[0];
if (!Number.isInteger(ttl) || ttl <= 0 || positionals.length > 1 || values.admin === (customer !== undefined)) {
  console.error(USAGE);
  process.exit(2);
}
if (customer !== undefined && !compileValidator(CustomerId)(customer).ok) {
  console.error(`not a valid customer id: ${customer} (letters, digits and _ . : -, at most 64)`);
  process.exit(2);
}
const settings = tokenSettings(loadOrderConfig());
const token = values.admin
  ? await issueToken(settings, { subject: 'operator', role: 'admin' }, ttl)
  : await issueToken(settings, { subject: customer!, role: 'customer' }, ttl);
process.stdout.write(`${token}\n`);
