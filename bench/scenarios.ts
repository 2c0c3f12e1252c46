import type { Fixtures } from './fixtures.js';
import type { LoadRequest } from './load.js';

/** 'two apps': two app instances on one database, the connections split between them. */
export type Target = 'app' | 'baseline' | 'two apps';

export interface Scenario {
  name: string;
  /** Which process serves it. */
  target: Target;
  kind: 'read' | 'write' | 'login' | 'stats' | 'baseline';
  request: LoadRequest;
  /** Name of the raw-SQL baseline scenario this one is compared with. */
  baseline?: string;
  /** Default: the suite's connection count. */
  connections?: number;
  /** Statuses that count as success (default 200). */
  ok?: number[];
  /** False: measured without a warm-up (e.g. one that sells seats out). */
  warmup?: boolean;
}

/** Cycles through a list: each call returns the next item. */
function rotate<T>(items: readonly T[]): () => T {
  if (items.length === 0) throw new Error('nothing to rotate through');
  let k = 0;
  return () => items[k++ % items.length]!;
}

const API = '/api/v1';

export function scenarios(f: Fixtures, password: string): Scenario[] {
  const filtered = `?division=${f.filter.division}&tourType=${f.filter.tourType}&searchTerm=${encodeURIComponent(f.filter.searchTerm)}`;
  // One filter whose total the app keeps (tour_counts) while the baseline counts it.
  const byDivision = `?division=${f.filter.division}`;
  const slug = rotate(f.slugs);
  const customer = rotate(f.customers);
  const loginEmail = rotate(f.loginEmails);
  const bookingTour = rotate(f.bookingTours);

  // Each refresh spends a token and the answer hands back its successor, which joins the pool again.
  const refreshPool = [...f.refreshTokens];
  const refresh: LoadRequest = {
    method: 'POST',
    path: `${API}/auth/refresh-token`,
    next: () => {
      const token = refreshPool.shift();
      return token ? { body: JSON.stringify({ refreshToken: token }) } : undefined;
    },
    onResponse: (status, body) => {
      if (status !== 200) return;
      const next = (JSON.parse(body) as { data?: { refreshToken?: string } }).data?.refreshToken;
      if (next) refreshPool.push(next);
    },
  };

  const list: Scenario[] = [
    { name: 'constant', target: 'baseline', kind: 'baseline', request: { path: '/constant' } },
    { name: 'sql: tour list', target: 'baseline', kind: 'baseline', request: { path: '/sql/tour' } },
    {
      name: 'sql: tour list by division',
      target: 'baseline',
      kind: 'baseline',
      request: { path: `/sql/tour${byDivision}` },
    },
    {
      name: 'sql: tour list filtered',
      target: 'baseline',
      kind: 'baseline',
      request: { path: `/sql/tour${filtered}` },
    },
    {
      name: 'sql: tour by slug',
      target: 'baseline',
      kind: 'baseline',
      request: { path: '/sql/tour/x', next: () => ({ path: `/sql/tour/${slug()}` }) },
    },
    {
      name: 'sql: user me',
      target: 'baseline',
      kind: 'baseline',
      request: { path: '/sql/me', next: () => ({ headers: { authorization: customer().authorization } }) },
    },
    {
      name: 'GET /tour',
      target: 'app',
      kind: 'read',
      baseline: 'sql: tour list',
      request: { path: `${API}/tour` },
    },
    {
      name: 'GET /tour (division)',
      target: 'app',
      kind: 'read',
      baseline: 'sql: tour list by division',
      request: { path: `${API}/tour${byDivision}` },
    },
    {
      name: 'GET /tour (division + tourType + searchTerm)',
      target: 'app',
      kind: 'read',
      baseline: 'sql: tour list filtered',
      request: { path: `${API}/tour${filtered}` },
    },
    {
      name: 'GET /tour/:slug',
      target: 'app',
      kind: 'read',
      baseline: 'sql: tour by slug',
      request: { path: `${API}/tour/x`, next: () => ({ path: `${API}/tour/${slug()}` }) },
    },
    {
      name: 'GET /user/me',
      target: 'app',
      kind: 'read',
      baseline: 'sql: user me',
      request: {
        path: `${API}/user/me`,
        next: () => ({ headers: { authorization: customer().authorization } }),
      },
    },
    ...(['user', 'tour', 'booking', 'payment'] as const).map(
      (endpoint): Scenario => ({
        name: `GET /stats/${endpoint}`,
        target: 'app',
        kind: 'stats',
        // One caller at a time: the target is the latency of one call on the large dataset.
        connections: 1,
        request: { path: `${API}/stats/${endpoint}`, headers: { authorization: f.adminAuthorization } },
      }),
    ),
    {
      name: 'POST /auth/login',
      target: 'app',
      kind: 'login',
      request: {
        method: 'POST',
        path: `${API}/auth/login`,
        next: () => ({ body: JSON.stringify({ email: loginEmail(), password }) }),
      },
    },
    { name: 'POST /auth/refresh-token', target: 'app', kind: 'write', request: refresh },
    {
      name: `POST /booking (${f.bookingTours.length} tours, many users)`,
      target: 'app',
      kind: 'write',
      ok: [201],
      request: {
        method: 'POST',
        path: `${API}/booking`,
        next: () => ({
          headers: { authorization: customer().authorization },
          body: JSON.stringify({ tour: bookingTour(), guestCount: 1 }),
        }),
      },
    },
  ];
  return list;
}
