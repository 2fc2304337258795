import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..', '..');
/** The console's sources: a preact app, type-checked by its own tsconfig.json (DOM, JSX). */
export const CONSOLE_SOURCE = path.join(root, 'services', 'order-service', 'console');
/** Where order-service serves the console from: `index.html` and `assets/console.{js,css}`. */
export const CONSOLE_OUTPUT = path.join(root, 'dist', 'console');

/**
 * Bundles the console with esbuild (preact, the pages and the stylesheet into one script and one
 * stylesheet, minified, no CDN), so that order-service serves it with nothing fetched from elsewhere
 * and helmet's default Content-Security-Policy (`script-src 'self'`) left on.
 */
export async function bundleConsole(outdir = CONSOLE_OUTPUT): Promise<void> {
  mkdirSync(path.join(outdir, 'assets'), { recursive: true });
  await build({
    entryPoints: { console: path.join(CONSOLE_SOURCE, 'main.tsx') },
    outdir: path.join(outdir, 'assets'),
    bundle: true,
    format: 'esm',
    target: ['es2020'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: true,
    legalComments: 'linked',
    tsconfig: path.join(CONSOLE_SOURCE, 'tsconfig.json'),
    logLevel: 'warning',
  });
  copyFileSync(path.join(CONSOLE_SOURCE, 'index.html'), path.join(outdir, 'index.html'));
}
