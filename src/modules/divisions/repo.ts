import { count, eq, like, or } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { divisions, tours } from '../../db/schema/index.js';
import { countAll, escapeLike, type ListSpec, type ParsedList } from '../../lib/list-query.js';

export type DivisionRow = typeof divisions.$inferSelect;
export type NewDivisionRow = typeof divisions.$inferInsert;

export const divisionListSpec: ListSpec = {
  searchable: [divisions.name, divisions.description],
  filters: {
    _id: { column: divisions.id, kind: 'id' },
    name: { column: divisions.name, kind: 'text' },
    slug: { column: divisions.slug, kind: 'text' },
  },
  sortable: { createdAt: divisions.createdAt, name: divisions.name },
  tieBreaker: divisions.id,
  projectable: ['_id', 'name', 'slug', 'thumbnail', 'description', 'createdAt', 'updatedAt'],
};

export async function listDivisions(ex: Executor, parsed: ParsedList) {
  const [rows, [totalRow]] = await Promise.all([
    ex
      .select()
      .from(divisions)
      .where(parsed.where)
      .orderBy(...parsed.orderBy)
      .limit(parsed.limit)
      .offset(parsed.offset),
    ex.select({ total: countAll }).from(divisions).where(parsed.where),
  ]);
  return { rows, total: totalRow?.total ?? 0 };
}

export async function findDivisionBySlug(ex: Executor, slug: string): Promise<DivisionRow | undefined> {
  const [row] = await ex.select().from(divisions).where(eq(divisions.slug, slug)).limit(1);
  return row;
}

/** With `lock`, the row stays locked until the transaction ends (concurrent updates and deletes wait). */
export async function findDivisionById(
  ex: Executor,
  id: string,
  lock = false,
): Promise<DivisionRow | undefined> {
  const query = ex.select().from(divisions).where(eq(divisions.id, id)).limit(1);
  const [row] = lock ? await query.for('update') : await query;
  return row;
}

export async function divisionSlugsLike(ex: Executor, base: string): Promise<string[]> {
  const rows = await ex
    .select({ slug: divisions.slug })
    .from(divisions)
    .where(or(eq(divisions.slug, base), like(divisions.slug, `${escapeLike(base)}-%`)));
  return rows.map((r) => r.slug);
}

export async function insertDivision(ex: Executor, values: NewDivisionRow): Promise<DivisionRow> {
  const [row] = await ex.insert(divisions).values(values).returning();
  return row!;
}

export async function updateDivisionRow(
  ex: Executor,
  id: string,
  values: Partial<NewDivisionRow>,
): Promise<DivisionRow | undefined> {
  const [row] = await ex
    .update(divisions)
    // updatedAt is set explicitly so an update with no other change is still a valid statement.
    .set({ ...values, updatedAt: new Date() })
    .where(eq(divisions.id, id))
    .returning();
  return row;
}

export async function deleteDivisionRow(ex: Executor, id: string): Promise<void> {
  await ex.delete(divisions).where(eq(divisions.id, id));
}

export async function countToursInDivision(ex: Executor, divisionId: string): Promise<number> {
  const [row] = await ex.select({ n: count() }).from(tours).where(eq(tours.divisionId, divisionId));
  return row?.n ?? 0;
}
