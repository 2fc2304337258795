import { bundleConsole } from '../../infra/scripts/console-bundle.js';

/** Before the integration suites: the console's bundle, which order-service serves at /console. */
export default async function setup(): Promise<void> {
  await bundleConsole();
}
