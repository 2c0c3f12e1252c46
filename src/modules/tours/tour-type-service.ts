import type { Database } from '../../db/client.js';
import { AppError, conflict, notFound } from '../../lib/errors.js';
import { listMeta, parseListQuery, project } from '../../lib/list-query.js';
import { isUniqueViolation } from '../../lib/slug.js';
import {
  countToursOfType,
  deleteTourTypeRow,
  findTourTypeById,
  insertTourType,
  listTourTypes,
  type TourTypeRow,
  tourTypeListSpec,
  updateTourTypeRow,
} from './repo.js';
import type { TourTypeDto } from './schemas.js';

type TourTypeListItem = Partial<TourTypeDto> & Pick<TourTypeDto, '_id'>;

export function toTourTypeDto(row: TourTypeRow): TourTypeDto {
  return {
    _id: row.id,
    name: row.name,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function duplicateName(err: unknown, name: string): unknown {
  if (!isUniqueViolation(err, 'tour_types_name_key')) return err;
  const message = `A tour type named "${name}" already exists`;
  return new AppError(409, 'CONFLICT', message, [{ path: 'name', message }]);
}

export function createTourTypeService({ db }: { db: Database }) {
  return {
    async list(query: Record<string, unknown>) {
      const parsed = parseListQuery(query, tourTypeListSpec);
      const { rows, total } = await listTourTypes(db, parsed);
      return {
        items: rows.map((row) => project(toTourTypeDto(row), parsed.fields) as TourTypeListItem),
        meta: listMeta(parsed, total),
      };
    },

    async get(id: string): Promise<TourTypeDto> {
      const row = await findTourTypeById(db, id);
      if (!row) throw notFound('Tour type not found');
      return toTourTypeDto(row);
    },

    async create(name: string): Promise<TourTypeDto> {
      try {
        return toTourTypeDto(await insertTourType(db, name));
      } catch (err) {
        throw duplicateName(err, name);
      }
    },

    async rename(id: string, name: string): Promise<TourTypeDto> {
      let row: TourTypeRow | undefined;
      try {
        row = await updateTourTypeRow(db, id, name);
      } catch (err) {
        throw duplicateName(err, name);
      }
      if (!row) throw notFound('Tour type not found');
      return toTourTypeDto(row);
    },

    async remove(id: string): Promise<void> {
      await db.transaction(async (tx) => {
        const current = await findTourTypeById(tx, id, true);
        if (!current) throw notFound('Tour type not found');
        const tourCount = await countToursOfType(tx, id);
        if (tourCount > 0) {
          throw conflict(`Tour type "${current.name}" is used by ${tourCount} tour(s); change them first`);
        }
        await deleteTourTypeRow(tx, id);
      });
    },
  };
}

export type TourTypeService = ReturnType<typeof createTourTypeService>;
