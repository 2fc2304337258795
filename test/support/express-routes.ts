import type express from 'express';

/** What the walk reads of express 5's router (the `router` package): a layer holds a route, or a router or app mounted on a path. */
interface Layer {
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: Layer[]; router?: { stack?: Layer[] } };
  rawPath?: unknown;
}

/**
 * Every route an express 5 app really has, as `METHOD /path` in OpenAPI's notation
 * (`/orders/:id` → `/orders/{id}`), found by walking its router stack into every router or app
 * mounted with `use`. Paths the walk cannot name (regular expressions, arrays, wildcards) throw
 * rather than go missing.
 */
export function expressRoutes(app: express.Express): string[] {
  const routes: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const path = prefix + stringPath(layer.route.path);
        for (const method of Object.keys(layer.route.methods)) routes.push(`${method === '_all' ? 'ALL' : method.toUpperCase()} ${toOpenApiPath(path)}`);
        continue;
      }
      const nested = layer.handle?.stack ?? layer.handle?.router?.stack;
      if (Array.isArray(nested)) walk(nested, prefix + mountPath(layer));
    }
  };
  walk((app.router as unknown as { stack: Layer[] }).stack, '');
  return routes;
}

function stringPath(path: unknown): string {
  if (typeof path !== 'string' || /[*?(){}]/.test(path)) throw new Error(`cannot name the route path ${String(path)}`);
  return path;
}

function mountPath(layer: Layer): string {
  // `rawPath` is what `use(path, …)` was given; '/' (no path) adds nothing.
  const path = stringPath(layer.rawPath);
  return path === '/' ? '' : path.replace(/\/+$/, '');
}

const toOpenApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');
