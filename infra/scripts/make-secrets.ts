/**
 * Makes the Docker secrets docker-compose.yml needs, in ./secrets (or the directory given), keeping
 * any that exist:
 *
 *   npm run secrets [-- <dir>]
 */
import { resolve } from 'node:path';
import { COMPOSE_SECRETS, makeComposeSecrets } from './compose-secrets.js';

const dir = resolve(process.argv[2] ?? 'secrets');
const written = makeComposeSecrets(dir);
for (const name of COMPOSE_SECRETS) {
  process.stdout.write(`${written.includes(name) ? 'made' : 'kept'} ${dir}/${name}\n`);
}
