import { useEffect, useState } from 'preact/hooks';

/** The page the location's hash names: `#/orders`, `#/orders/<id>`, `#/dead-letters` … (no server routes). */
export type Route =
  | { page: 'orders'; query: URLSearchParams }
  | { page: 'order'; id: string }
  | { page: 'dead-letters' }
  | { page: 'dead-letter'; id: string }
  | { page: 'services' }
  | { page: 'jobs' }
  | { page: 'not-found' };

export function parseRoute(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean);
  if (parts.length === 0 || (parts[0] === 'orders' && parts.length === 1)) return { page: 'orders', query: new URLSearchParams(search) };
  if (parts[0] === 'orders' && parts.length === 2) return { page: 'order', id: decodeURIComponent(parts[1]!) };
  if (parts[0] === 'dead-letters' && parts.length === 1) return { page: 'dead-letters' };
  if (parts[0] === 'dead-letters' && parts.length === 2) return { page: 'dead-letter', id: decodeURIComponent(parts[1]!) };
  if (parts[0] === 'services' && parts.length === 1) return { page: 'services' };
  if (parts[0] === 'jobs' && parts.length === 1) return { page: 'jobs' };
  return { page: 'not-found' };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const changed = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}

export const href = {
  orders: (query?: URLSearchParams) => `#/orders${query && [...query].length > 0 ? `?${query}` : ''}`,
  order: (id: string) => `#/orders/${encodeURIComponent(id)}`,
  deadLetters: () => '#/dead-letters',
  deadLetter: (id: string) => `#/dead-letters/${encodeURIComponent(id)}`,
  services: () => '#/services',
  jobs: () => '#/jobs',
};
