import { type AnyColumn, and, asc, desc, eq, ilike, or, type SQL, sql } from 'drizzle-orm';
import type { PgSelect } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import type { ListMeta } from './envelope.js';
import { validationError } from './errors.js';
import { isId } from './ids.js';

/**
 * One list-query convention for every list route: `searchTerm` (escaped, case-insensitive substring),
 * allowlisted equality filters, `sort` (comma list, `-` = descending), `fields` (projection over public
 * fields, `_id` always kept), `page` ≥ 1 and `limit` 1..100 (larger values are clamped).
 */

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 100;

export type FilterKind = 'id' | 'text' | 'boolean' | { enum: readonly string[] };

export interface ListSpec {
  /** Columns searched by `searchTerm`. */
  searchable: AnyColumn[];
  /** Query key → column and how to read its value. */
  filters: Record<string, { column: AnyColumn; kind: FilterKind }>;
  /** API field name → column. `createdAt` should be one of them; it is the default sort (descending). */
  sortable: Record<string, AnyColumn>;
  /** Tie-breaker that makes pagination stable (usually the primary key). */
  tieBreaker: AnyColumn;
  /** API field names a client may project with `fields`. */
  projectable: readonly string[];
}

export interface ParsedList {
  where: SQL | undefined;
  orderBy: SQL[];
  page: number;
  limit: number;
  offset: number;
  /** Public field names to keep, `_id` included; undefined = all. */
  fields: string[] | undefined;
}

const optionalText = z.string().max(500).optional();

/** The query-string schema of a list route (for validation and the OpenAPI document). */
export function listQuerySchema(filterKeys: readonly string[]) {
  const filters = Object.fromEntries(filterKeys.map((k) => [k, z.string().max(200).optional()]));
  return z
    .object({
      searchTerm: optionalText,
      sort: optionalText,
      fields: optionalText,
      page: z.string().max(12).optional(),
      limit: z.string().max(12).optional(),
      ...filters,
    })
    .loose();
}

/** Escapes LIKE metacharacters so the search term matches as plain text. */
export const escapeLike = (term: string) => term.replace(/[\\%_]/g, (c) => `\\${c}`);

function positiveInt(value: string | undefined, field: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value.trim())) throw validationError(field, `${field} must be a positive integer`);
  const n = Number(value);
  if (n < 1) throw validationError(field, `${field} must be at least 1`);
  return n;
}

function filterValue(key: string, raw: string, kind: FilterKind): unknown {
  if (kind === 'id') {
    if (!isId(raw)) throw validationError(key, `${key} must be a valid id`);
    return raw;
  }
  if (kind === 'boolean') {
    if (raw !== 'true' && raw !== 'false') throw validationError(key, `${key} must be true or false`);
    return raw === 'true';
  }
  if (kind === 'text') return raw;
  if (!kind.enum.includes(raw)) throw validationError(key, `${key} must be one of ${kind.enum.join(', ')}`);
  return raw;
}

export function parseListQuery(
  query: Record<string, unknown>,
  spec: ListSpec,
  extra: (SQL | undefined)[] = [],
): ParsedList {
  return buildList(query, spec, extra);
}

/** A list query with placeholders for its values, for a prepared statement per shape. */
export interface ShapedList extends ParsedList {
  /** Names the filters, search and sort used: lists of the same shape have the same SQL. */
  shape: string;
  /** Fills the placeholders of `where`. */
  values: Record<string, unknown>;
}

/**
 * A list query read and validated, before any SQL is built: which filters, search and sort it uses (its shape,
 * which decides its statement) and the values of their placeholders. A caller that keeps a statement per
 * shape builds the SQL (`shapedListSql`) only for a shape it has not seen.
 */
export interface ListRequest extends Omit<ShapedList, 'where' | 'orderBy'> {
  search: boolean;
  /** Filter keys used, in the spec's order. */
  filters: string[];
  sorts: { name: string; descending: boolean }[];
}

/**
 * `parseListQuery` (same validation, same conditions and order) with the filter and search values left as
 * placeholders, so one prepared statement serves every list of the same shape.
 */
export function parseListQueryShape(query: Record<string, unknown>, spec: ListSpec): ShapedList {
  const request = readListQuery(query, spec);
  const { search: _search, filters: _filters, sorts: _sorts, ...rest } = request;
  return { ...rest, ...shapedListSql(spec, request) };
}

/** The conditions and order of a list shape, with placeholders `:searchTerm` and `:filter_<key>`. */
export function shapedListSql(
  spec: ListSpec,
  shape: Pick<ListRequest, 'search' | 'filters' | 'sorts'>,
): Pick<ParsedList, 'where' | 'orderBy'> {
  const conditions: SQL[] = [];
  if (shape.search) {
    const pattern = sql.placeholder('searchTerm');
    conditions.push(or(...spec.searchable.map((c) => ilike(c, pattern as unknown as string)))!);
  }
  for (const key of shape.filters)
    conditions.push(eq(spec.filters[key]!.column, sql.placeholder(`filter_${key}`)));
  const orderBy = shape.sorts.map(({ name, descending }) =>
    descending ? desc(spec.sortable[name]!) : asc(spec.sortable[name]!),
  );
  if (orderBy.length === 0 && spec.sortable.createdAt) orderBy.push(desc(spec.sortable.createdAt));
  orderBy.push(desc(spec.tieBreaker));
  return { where: and(...conditions), orderBy };
}

const textOf = (query: Record<string, unknown>, key: string) => {
  const v = query[key];
  return typeof v === 'string' ? v : undefined;
};

/** Page, limit and projection of a list query (validated). */
function readWindow(query: Record<string, unknown>, spec: ListSpec) {
  const page = positiveInt(textOf(query, 'page'), 'page', 1);
  const limit = Math.min(MAX_LIMIT, positiveInt(textOf(query, 'limit'), 'limit', DEFAULT_LIMIT));
  let fields: string[] | undefined;
  const requested = textOf(query, 'fields');
  if (requested) {
    const allowed = requested
      .split(',')
      .map((f) => f.trim())
      .filter((f) => spec.projectable.includes(f));
    fields = ['_id', ...allowed.filter((f) => f !== '_id')];
  }
  return { page, limit, offset: (page - 1) * limit, fields };
}

/** Reads a list query without building SQL (see `ListRequest`); same validation as `parseListQuery`. */
export function readListQuery(query: Record<string, unknown>, spec: ListSpec): ListRequest {
  const values: Record<string, unknown> = {};
  const shape: string[] = [];
  const term = textOf(query, 'searchTerm')?.trim();
  const search = Boolean(term) && spec.searchable.length > 0;
  if (search) {
    values.searchTerm = `%${escapeLike(term!)}%`;
    shape.push('searchTerm');
  }
  const filters: string[] = [];
  for (const key in spec.filters) {
    const raw = textOf(query, key);
    if (raw === undefined || raw === '') continue;
    values[`filter_${key}`] = filterValue(key, raw, spec.filters[key]!.kind);
    filters.push(key);
    shape.push(key);
  }
  const sorts: ListRequest['sorts'] = [];
  const sort = textOf(query, 'sort');
  if (sort) {
    for (const token of sort.split(',')) {
      const name = token.trim().replace(/^[-+]/, '');
      // Unknown sort fields are ignored rather than refused (see `buildList`); own keys only.
      if (!Object.hasOwn(spec.sortable, name) || !spec.sortable[name]) continue;
      sorts.push({ name, descending: token.trim().startsWith('-') });
    }
  }
  const sortShape = sorts.map((s) => `${s.descending ? '-' : ''}${s.name}`).join(',');
  return {
    ...readWindow(query, spec),
    search,
    filters,
    sorts,
    shape: `${shape.join(',')}|${sortShape}`,
    values,
  };
}

function buildList(query: Record<string, unknown>, spec: ListSpec, extra: (SQL | undefined)[]): ParsedList {
  const text = (key: string) => textOf(query, key);
  const conditions: (SQL | undefined)[] = [...extra];

  const term = text('searchTerm')?.trim();
  if (term && spec.searchable.length > 0) {
    const pattern = `%${escapeLike(term)}%`;
    conditions.push(or(...spec.searchable.map((c) => ilike(c, pattern))));
  }
  for (const [key, { column, kind }] of Object.entries(spec.filters)) {
    const raw = text(key);
    if (raw === undefined || raw === '') continue;
    conditions.push(eq(column, filterValue(key, raw, kind)));
  }

  const orderBy: SQL[] = [];
  for (const token of (text('sort') ?? '').split(',')) {
    const name = token.trim().replace(/^[-+]/, '');
    // Unknown sort fields are ignored rather than refused: legacy clients send Mongo-style sorts. Own keys
    // only: `__proto__` or `toString` would otherwise find the prototype's members.
    const column = Object.hasOwn(spec.sortable, name) ? spec.sortable[name] : undefined;
    if (!column) continue;
    const descending = token.trim().startsWith('-');
    orderBy.push(descending ? desc(column) : asc(column));
  }
  if (orderBy.length === 0 && spec.sortable.createdAt) orderBy.push(desc(spec.sortable.createdAt));
  orderBy.push(desc(spec.tieBreaker));

  return { where: and(...conditions.filter(Boolean)), orderBy, ...readWindow(query, spec) };
}

export function listMeta(parsed: Pick<ParsedList, 'page' | 'limit'>, total: number): ListMeta {
  return { page: parsed.page, limit: parsed.limit, total, totalPage: Math.ceil(total / parsed.limit) };
}

/** Keeps only the projected fields of an API object. */
export function project<T extends Record<string, unknown>>(
  item: T,
  fields: string[] | undefined,
): Partial<T> {
  if (!fields) return item;
  const out: Record<string, unknown> = {};
  for (const f of fields) if (Object.hasOwn(item, f)) out[f] = item[f];
  return out as Partial<T>;
}

/** The part of a parsed list a repository's select needs: which rows, in which order, which page. */
export type ListWindow = Pick<ParsedList, 'where' | 'orderBy' | 'limit' | 'offset'>;

/** Applies a list window to a select (made with `.$dynamic()`): its conditions, order and page. */
export function inListWindow<T extends PgSelect>(query: T, window: ListWindow) {
  return query
    .where(window.where)
    .orderBy(...window.orderBy)
    .limit(window.limit)
    .offset(window.offset);
}

/** `count(*)` as a number, for the `total` of a filtered list. */
export const countAll = sql<number>`count(*)::int`;
