/**
 * The two baselines `npm run bench` compares the app against, run as their own process like the app:
 * a bare Fastify route answering a constant, and bare Fastify routes that run the hand-written SQL the
 * app's read routes need through `pg` (named prepared statements, as the app's hottest reads use), with no
 * validation, no envelope schemas, no hooks and no ORM.
 *
 * Env: DATABASE_URL (required), PORT (0 = any), DATABASE_POOL_MAX (20, as the app), JWT_ACCESS_SECRET
 * (to check the HS256 signature of GET /sql/me the way any authenticated route must).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import Fastify from 'fastify';
import pg from 'pg';

const databaseUrl = process.env.DATABASE_URL;
const accessSecret = process.env.JWT_ACCESS_SECRET;
if (!databaseUrl || !accessSecret) {
  console.error('DATABASE_URL and JWT_ACCESS_SECRET are required');
  process.exit(1);
}

pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number.parseInt(v, 10));
const pool = new pg.Pool({
  connectionString: databaseUrl,
  max: Number(process.env.DATABASE_POOL_MAX ?? 20),
  application_name: 'bench-baseline',
});

const app = Fastify({ logger: false });

app.get('/constant', async () => ({ success: true, message: 'constant', data: { ok: true } }));

// The tour's schedule is its next bookable departure (else its latest), and its count of upcoming ones.
const TOUR_PAGE = `select t.id as "_id", t.slug, t.title, t.description, t.images, t.cost_from_minor, t.currency,
  t.max_guest, t.min_age, nd.id as "nextDeparture", nd.capacity, nd.seats_booked, nd.status, t.departure_location,
  t.arrival_location, t.location, nd.start_date, nd.end_date, t.amenities, t.included, t.excluded, t.tour_plan,
  t.division_id as division, t.tour_type_id as "tourType", t.created_at, t.updated_at,
  (select count(*)::int from departures d where d.tour_id = t.id and d.status = 'SCHEDULED'
     and d.start_date > now()) as departures
  from tours t left join lateral (
    select id, start_date, end_date, capacity, seats_booked, status from departures d where d.tour_id = t.id
    order by (status = 'SCHEDULED' and start_date > now()) desc,
      case when status = 'SCHEDULED' and start_date > now() then start_date end, start_date desc
    limit 1) nd on true`;

/**
 * The list the app serves at GET /tour: one page newest first, and the total for `meta`, always counted with
 * count(*) (the app reads the totals of all tours, one division or one tour type from counts it keeps).
 */
app.get('/sql/tour', async (request) => {
  const q = request.query as Record<string, string | undefined>;
  const where: string[] = [];
  const params: string[] = [];
  if (q.division) {
    params.push(q.division);
    where.push(`t.division_id = $${params.length}`);
  }
  if (q.tourType) {
    params.push(q.tourType);
    where.push(`t.tour_type_id = $${params.length}`);
  }
  if (q.searchTerm) {
    params.push(`%${q.searchTerm.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    const n = params.length;
    where.push(`(t.title ilike $${n} or t.description ilike $${n} or t.location ilike $${n})`);
  }
  const clause = where.length > 0 ? ` where ${where.join(' and ')}` : '';
  // Named statements, as the app uses for its hottest reads: one per filter shape.
  const shape = where.length > 0 ? Object.keys(q).sort().join('_') : 'all';
  const [page, count] = await Promise.all([
    pool.query({
      name: `tour_page_${shape}`,
      text: `${TOUR_PAGE}${clause} order by t.created_at desc, t.id desc limit 10`,
      values: params,
    }),
    pool.query<{ total: number }>({
      name: `tour_count_${shape}`,
      text: `select count(*)::int as total from tours t${clause}`,
      values: params,
    }),
  ]);
  const total = count.rows[0]?.total ?? 0;
  return {
    success: true,
    message: 'Tours retrieved',
    meta: { page: 1, limit: 10, total, totalPage: Math.ceil(total / 10) },
    data: page.rows,
  };
});

app.get('/sql/tour/:slug', async (request, reply) => {
  const { slug } = request.params as { slug: string };
  const { rows } = await pool.query({
    name: 'tour_by_slug',
    text: `${TOUR_PAGE} where t.slug = $1 limit 1`,
    values: [slug],
  });
  if (!rows[0]) return reply.code(404).send({ success: false, message: 'Tour not found' });
  return { success: true, message: 'Tour retrieved', data: rows[0] };
});

const accessKey = Buffer.from(accessSecret);

/** The claims of a correctly signed HS256 token, or undefined (expiry is the caller's concern). */
function verifiedClaims(token: string): { sid?: string; userId?: string } | undefined {
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || !signature) return undefined;
  const expected = createHmac('sha256', accessKey).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
}

/** GET /user/me by hand: the signed token, then the live session, the user and their sign-in methods. */
app.get('/sql/me', async (request, reply) => {
  const token = request.headers.authorization?.replace(/^Bearer\s+/i, '') ?? '';
  const claims = verifiedClaims(token);
  if (!claims?.sid || !claims.userId) return reply.code(401).send({ success: false });
  const { rows } = await pool.query({
    name: 'me',
    text: `select u.id as "_id", u.name, u.email, u.role, u.phone, u.picture, u.address, u.is_deleted, u.is_active,
            u.is_verified, u.created_at, u.updated_at,
            coalesce((select json_agg(json_build_object('provider', a.provider, 'providerId', a.provider_id))
                      from user_auths a where a.user_id = u.id), '[]') as auths
     from sessions s join users u on u.id = s.user_id
     where s.id = $1 and s.user_id = $2 and s.revoked_at is null and s.absolute_expires_at > now()
       and not u.is_deleted and u.is_active = 'ACTIVE' and u.is_verified`,
    values: [claims.sid, claims.userId],
  });
  if (!rows[0]) return reply.code(401).send({ success: false });
  return { success: true, message: 'Your profile', data: rows[0] };
});

/** The departure row by its id, as the rush compares a SOLD_OUT answer with (bench/rush.ts). */
app.get('/sql/departure/:id', async (request, reply) => {
  const { rows } = await pool.query({
    name: 'departure',
    text: `select id as "_id", tour_id as tour, start_date as "startDate", end_date as "endDate", capacity,
             seats_booked as "seatsBooked", status, currency
           from departures where id = $1`,
    values: [(request.params as { id: string }).id],
  });
  if (!rows[0]) return reply.code(404).send({ success: false });
  return { success: true, message: 'Departure', data: rows[0] };
});

const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
console.log(`baseline listening on ${address}`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    void app
      .close()
      .then(() => pool.end())
      .then(() => process.exit(0));
  });
}
