import { fillPlaceholders } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { describe, expect, it } from 'vitest';
import * as schema from '../../src/db/schema/index.js';
import { parseListQuery, readListQuery, shapedListSql } from '../../src/lib/list-query.js';
import { tourListSpec } from '../../src/modules/tours/list-statements.js';

/*
 * GET /tour reads a request's shape and values first and builds a shape's SQL once (readListQuery,
 * shapedListSql). The statement of a shape with the request's values must be the list parseListQuery builds
 * with the values inline, and requests differing in any filter, search or sort must differ in shape.
 */

// Builds queries only: nothing here connects to a database.
const db = drizzle.mock({ schema });
const id = '0190a0c0-0000-7000-8000-000000000000';
const queries: Record<string, string>[] = [
  {},
  { division: id },
  { tourType: id, sort: 'title' },
  {
    division: id,
    tourType: id,
    searchTerm: ' 50%_off ',
    sort: '-costFrom,startDate,nope',
    page: '3',
    limit: '7',
  },
  { location: 'Sylhet', slug: 'x', _id: id, sort: '__proto__,-createdAt' },
];

const rendered = (list: {
  where: ReturnType<typeof shapedListSql>['where'];
  orderBy: ReturnType<typeof shapedListSql>['orderBy'];
}) => {
  const query = db
    .select({ id: schema.tours.id })
    .from(schema.tours)
    .where(list.where)
    .orderBy(...list.orderBy);
  return query.toSQL();
};

describe('list shapes', () => {
  it.each(queries)('a shape with its values is the list parseListQuery builds (%o)', (query) => {
    const request = readListQuery(query, tourListSpec);
    const parsed = parseListQuery(query, tourListSpec);
    const shaped = rendered(shapedListSql(tourListSpec, request));
    const direct = rendered(parsed);
    expect(shaped.sql).toBe(direct.sql);
    expect(fillPlaceholders(shaped.params, request.values)).toEqual(direct.params);
    expect({
      page: request.page,
      limit: request.limit,
      offset: request.offset,
      fields: request.fields,
    }).toEqual({
      page: parsed.page,
      limit: parsed.limit,
      offset: parsed.offset,
      fields: parsed.fields,
    });
  });

  it('every filter, search and sort is part of the shape; values, page and unknown sorts are not', () => {
    const shapes = queries.map((q) => readListQuery(q, tourListSpec).shape);
    expect(new Set(shapes).size).toBe(queries.length);
    expect(readListQuery({ division: id, page: '2', sort: 'nope' }, tourListSpec).shape).toBe(
      readListQuery({ division: id.toUpperCase() }, tourListSpec).shape,
    );
  });

  it('refuses what parseListQuery refuses', () => {
    for (const bad of [{ division: 'x' }, { page: '0' }, { limit: 'a' }]) {
      expect(() => readListQuery(bad, tourListSpec)).toThrow();
      expect(() => parseListQuery(bad, tourListSpec)).toThrow();
    }
  });
});
