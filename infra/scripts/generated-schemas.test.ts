import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatedSchemas } from './generated-schemas.js';

describe('published JSON Schemas', () => {
  it('when the code schemas change, then infra/schemas must be regenerated (npm run schemas)', () => {
    for (const [name, schema] of Object.entries(generatedSchemas())) {
      const file = path.join(import.meta.dirname, '..', 'schemas', `${name}.schema.json`);
      expect(JSON.parse(readFileSync(file, 'utf8')), name).toEqual(schema);
    }
  });
});
