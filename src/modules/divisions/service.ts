import type { Database } from '../../db/client.js';
import { AppError, conflict, notFound } from '../../lib/errors.js';
import { listMeta, parseListQuery, project } from '../../lib/list-query.js';
import { isUniqueViolation, slugBelongsTo, toSlug, writeWithUniqueSlug } from '../../lib/slug.js';
import type { Storage } from '../../lib/storage/storage.js';
import {
  type CleanupLogger,
  removeImageFiles,
  type UploadedImage,
  withStoredImages,
} from '../../lib/uploads.js';
import {
  countToursInDivision,
  type DivisionRow,
  deleteDivisionRow,
  divisionListSpec,
  divisionSlugsLike,
  findDivisionById,
  findDivisionBySlug,
  insertDivision,
  listDivisions,
  updateDivisionRow,
} from './repo.js';
import type { CreateDivisionInput, DivisionDto, UpdateDivisionInput } from './schemas.js';

/** A list item: with `fields`, only `_id` is sure to be there. */
type DivisionListItem = Partial<DivisionDto> & Pick<DivisionDto, '_id'>;

export interface DivisionServiceDeps {
  db: Database;
  storage: Storage;
  log: CleanupLogger;
}

export function toDivisionDto(row: DivisionRow): DivisionDto {
  return {
    _id: row.id,
    name: row.name,
    slug: row.slug,
    thumbnail: row.thumbnail,
    description: row.description,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Legacy slugs read `chattogram-division`; clients only ever take them from the API. */
export const divisionSlugBase = (name: string) => {
  const slug = toSlug(name, '');
  return slug ? `${slug}-division` : 'division';
};

function duplicateName(err: unknown, name: string | undefined): unknown {
  if (!isUniqueViolation(err, 'divisions_name_key')) return err;
  const message = `A division named "${name}" already exists`;
  return new AppError(409, 'CONFLICT', message, [{ path: 'name', message }]);
}

export function createDivisionService({ db, storage, log }: DivisionServiceDeps) {
  return {
    async list(query: Record<string, unknown>) {
      const parsed = parseListQuery(query, divisionListSpec);
      const { rows, total } = await listDivisions(db, parsed);
      return {
        items: rows.map((row) => project(toDivisionDto(row), parsed.fields) as DivisionListItem),
        meta: listMeta(parsed, total),
      };
    },

    async getBySlug(slug: string): Promise<DivisionDto> {
      const row = await findDivisionBySlug(db, slug);
      if (!row) throw notFound('Division not found');
      return toDivisionDto(row);
    },

    async create(input: CreateDivisionInput, images: UploadedImage[]): Promise<DivisionDto> {
      try {
        const row = await withStoredImages(storage, images, ([thumbnail]) =>
          writeWithUniqueSlug({
            base: divisionSlugBase(input.name),
            constraint: 'divisions_slug_key',
            taken: (base) => divisionSlugsLike(db, base),
            write: (slug) =>
              insertDivision(db, {
                name: input.name,
                description: input.description ?? null,
                thumbnail: thumbnail ?? null,
                slug,
              }),
          }),
        );
        return toDivisionDto(row);
      } catch (err) {
        throw duplicateName(err, input.name);
      }
    },

    /** A new thumbnail replaces the old one, whose file is deleted once the change is committed. */
    async update(id: string, input: UpdateDivisionInput, images: UploadedImage[]): Promise<DivisionDto> {
      let result: { row: DivisionRow; replacedThumbnail: string | null };
      try {
        result = await withStoredImages(storage, images, ([thumbnail]) =>
          db.transaction(async (tx) => {
            const current = await findDivisionById(tx, id, true);
            if (!current) throw notFound('Division not found');
            const changes = {
              ...(input.name !== undefined && { name: input.name }),
              ...(input.description !== undefined && { description: input.description }),
              ...(thumbnail !== undefined && { thumbnail }),
            };
            const base = input.name === undefined ? undefined : divisionSlugBase(input.name);
            const row =
              base === undefined || slugBelongsTo(current.slug, base)
                ? await updateDivisionRow(tx, id, changes)
                : await writeWithUniqueSlug({
                    base,
                    constraint: 'divisions_slug_key',
                    taken: (b) => divisionSlugsLike(tx, b),
                    // A savepoint per attempt, so a slug conflict does not abort the transaction.
                    write: (slug) => tx.transaction((sp) => updateDivisionRow(sp, id, { ...changes, slug })),
                  });
            const replacedThumbnail = thumbnail !== undefined ? current.thumbnail : null;
            return { row: row!, replacedThumbnail };
          }),
        );
      } catch (err) {
        throw duplicateName(err, input.name);
      }
      if (result.replacedThumbnail) await removeImageFiles(storage, [result.replacedThumbnail], log);
      return toDivisionDto(result.row);
    },

    async remove(id: string): Promise<void> {
      const removed = await db.transaction(async (tx) => {
        const current = await findDivisionById(tx, id, true);
        if (!current) throw notFound('Division not found');
        const tourCount = await countToursInDivision(tx, id);
        if (tourCount > 0) {
          throw conflict(
            `Division "${current.name}" still has ${tourCount} tour(s); move or delete them first`,
          );
        }
        await deleteDivisionRow(tx, id);
        return current;
      });
      if (removed.thumbnail) await removeImageFiles(storage, [removed.thumbnail], log);
    },
  };
}

export type DivisionService = ReturnType<typeof createDivisionService>;
