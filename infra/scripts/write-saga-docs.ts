import { readFileSync, writeFileSync } from 'node:fs';
import { repoPath } from '../../shared/startup/repo-path.js';
import { DOCUMENTS_WITH_BLOCKS, withGeneratedBlocks } from './saga-docs.js';

// `npm run docs`: renders the saga's event table and diagram into the documents that carry them.
for (const document of DOCUMENTS_WITH_BLOCKS) {
  const path = repoPath(document);
  const before = readFileSync(path, 'utf8');
  const after = withGeneratedBlocks(before);
  if (after !== before) writeFileSync(path, after);
  process.stdout.write(`${document}: ${after === before ? 'up to date' : 'updated'}\n`);
}
