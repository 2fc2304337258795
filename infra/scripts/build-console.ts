/**
 * Builds the operations console into dist/console (part of `npm run build`; `npm start` runs it too):
 *
 *   npm run build:console
 */
import { CONSOLE_OUTPUT, bundleConsole } from './console-bundle.js';

await bundleConsole();
process.stdout.write(`console built in ${CONSOLE_OUTPUT}\n`);
