/**
 * A path as a route template: every segment that holds a digit (an id such as `pay_3xYz9`) becomes
 * `{id}`, so that span names and metric labels stay few (`GET /payments/{id}`), as semantic
 * conventions ask.
 */
export function routeTemplate(path: string): string {
  return `/${path.replace(/^\/+/, '').split('/').map((segment) => (/\d/.test(segment) ? '{id}' : segment)).join('/')}`;
}
