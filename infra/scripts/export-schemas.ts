/**
 * Writes the JSON Schema of every event envelope and API body to infra/schemas/, generated from
 * the same TypeBox schemas the code validates with, for clients in other languages (Python).
 * `npm run schemas`; a unit test fails when the committed files drift from the code.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedSchemas } from './generated-schemas.js';

const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'schemas');
mkdirSync(out, { recursive: true });
for (const [name, schema] of Object.entries(generatedSchemas())) {
  writeFileSync(path.join(out, `${name}.schema.json`), `${JSON.stringify(schema, null, 2)}\n`);
}
console.log(`wrote ${Object.keys(generatedSchemas()).length} schemas to ${out}`);
