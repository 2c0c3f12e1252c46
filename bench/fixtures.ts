import { sql } from 'drizzle-orm';
import type { Config } from '../src/config.js';
import type { Database } from '../src/db/client.js';
import type { Role } from '../src/db/schema/index.js';
import { startSession } from '../src/modules/auth/sessions.js';
import { createTokenService } from '../src/modules/auth/tokens.js';

/** What the scenarios need from the loaded dataset: ids, slugs, and signed-in users. */
export interface Fixtures {
  slugs: string[];
  /** A filtered + searched list that matches some tours. */
  filter: { division: string; tourType: string; searchTerm: string; matches: number };
  /** Bookable customers (active, verified, phone and address), each with a session. */
  customers: { id: string; email: string; authorization: string }[];
  /** Further sessions whose refresh tokens the refresh scenario spends (one per request, rotating). */
  refreshTokens: string[];
  loginEmails: string[];
  adminAuthorization: string;
  /** Upcoming tours the booking scenario competes for. */
  bookingTours: string[];
}

const rowsOf = <T>(result: unknown): T[] => (result as { rows: T[] }).rows;

export async function prepareFixtures(
  db: Database,
  config: Config,
  options: { customers: number; refreshSessions: number; bookingTours: number; adminEmail: string },
): Promise<Fixtures> {
  const tokens = createTokenService(config);
  const now = new Date();
  const open = async (user: { id: string; email: string; role: Role }) =>
    startSession(db, { tokens, config }, user, { ip: '127.0.0.1', userAgent: 'bench' }, now);

  const slugs = rowsOf<{ slug: string }>(
    await db.execute(sql`select slug from tours order by hashtext(slug) limit 1000`),
  ).map((r) => r.slug);

  // The commonest (division, tour type) pair among tours whose title names a popular place.
  const searchTerm = 'Sajek';
  const [pair] = rowsOf<{ division_id: string; tour_type_id: string; n: number }>(
    await db.execute(sql`select division_id, tour_type_id, count(*)::int as n from tours
      where title ilike ${`%${searchTerm}%`} group by 1, 2 order by 3 desc, 1, 2 limit 1`),
  );
  if (!pair) throw new Error(`no tour mentions ${searchTerm}; is the dataset loaded?`);

  const users = rowsOf<{ id: string; email: string; role: Role }>(
    await db.execute(sql`select id, email, role from users
      where role = 'USER' and is_active = 'ACTIVE' and is_verified and not is_deleted
        and phone is not null and address is not null and password_hash is not null
      order by created_at limit ${Math.max(options.customers, 1)}`),
  );
  if (users.length < options.customers) throw new Error('the dataset has too few bookable users');
  const customers = [];
  for (const user of users) {
    const { accessToken } = await open(user);
    customers.push({ id: user.id, email: user.email, authorization: `Bearer ${accessToken}` });
  }
  const refreshTokens = [];
  for (let k = 0; k < options.refreshSessions; k += 1) {
    refreshTokens.push((await open(users[k % users.length]!)).refreshToken);
  }

  const [admin] = rowsOf<{ id: string; email: string; role: Role }>(
    await db.execute(sql`select id, email, role from users where email = ${options.adminEmail}`),
  );
  if (!admin) throw new Error(`${options.adminEmail} is missing from the dataset`);
  const adminAuthorization = `Bearer ${(await open(admin)).accessToken}`;

  // Room for every request of the run, so the scenario measures contended seat holds rather than SOLD_OUT.
  const bookingTours = rowsOf<{ id: string }>(
    await db.execute(sql`update departures set capacity = seats_booked + 1000000
      where id in (select d.id from departures d join tours t on t.id = d.tour_id
                   where d.start_date > now() + interval '14 days' and d.status = 'SCHEDULED'
                     and t.cost_from_minor is not null order by t.id limit ${options.bookingTours})
      returning tour_id as id`),
  ).map((r) => r.id);

  return {
    slugs,
    filter: { division: pair.division_id, tourType: pair.tour_type_id, searchTerm, matches: pair.n },
    customers,
    refreshTokens,
    loginEmails: users.map((u) => u.email),
    adminAuthorization,
    bookingTours,
  };
}

/** Seats held on the booking tours' departures must equal the guests of their seat-holding bookings. */
export async function seatDrift(db: Database, tourIds: string[]): Promise<number> {
  const ids = sql.join(
    tourIds.map((id) => sql`${id}::uuid`),
    sql`, `,
  );
  const [row] = rowsOf<{ drift: number }>(
    await db.execute(sql`select coalesce(sum(abs(d.seats_booked - coalesce(b.held, 0))), 0)::int as drift
      from departures d left join (
        select departure_id, sum(guest_count)::int as held from bookings
        where status in ('PENDING', 'COMPLETE') group by departure_id
      ) b on b.departure_id = d.id
      where d.tour_id in (${ids})`),
  );
  return row?.drift ?? 0;
}
