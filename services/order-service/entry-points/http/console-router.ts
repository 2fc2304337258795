import { existsSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import { repoPath } from '../../../../shared/startup/repo-path.js';
import { sendProblem } from './problem.js';

/**
 * Where `npm run build` (and `npm run build:console`) puts the bundled console: beside the
 * repository's (or the image's) package.json, whether or not it has been built yet.
 */
export const CONSOLE_DIR = path.join(path.dirname(repoPath('package.json')), 'dist', 'console');

/**
 * The operations console's files: its page at `/console` and its bundled script and stylesheet.
 * Public like /docs: they hold no data. Everything the console shows comes from `/admin/*` with the
 * admin token the operator signs in with, sent as a header (no cookie), so the console needs no
 * server-side session and no CSRF defence. Not built yet → 503 naming the command that builds it.
 */
export function consoleRouter(dir = CONSOLE_DIR): express.Router {
  const router = express.Router();
  const notBuilt: express.RequestHandler = (_req, res, next) =>
    existsSync(path.join(dir, 'index.html')) ? next() : sendProblem(res, 'service_unavailable', 'the console is not built: run npm run build:console');
  router.use('/console', notBuilt);
  router.get('/console', (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(path.join(dir, 'index.html'));
  });
  // Asset names carry no hash: the browser revalidates them (ETag), which costs a 304.
  router.use('/console/assets', express.static(path.join(dir, 'assets'), { fallthrough: false, index: false, cacheControl: true, maxAge: 0 }));
  return router;
}
