import type { Database, Tx } from '../../db/client.js';
import { FOREIGN_KEY_VIOLATION, findPgError } from '../../db/pg-errors.js';
import type { Clock } from '../../lib/clock.js';
import { conflict, notFound, validationError } from '../../lib/errors.js';
import { listMeta, project } from '../../lib/list-query.js';
import { toMinor } from '../../lib/money.js';
import { slugBelongsTo, toSlug, writeWithUniqueSlug } from '../../lib/slug.js';
import type { Storage } from '../../lib/storage/storage.js';
import {
  type CleanupLogger,
  removeImageFiles,
  type UploadedImage,
  withStoredImages,
} from '../../lib/uploads.js';
import { applyLegacySchedule, scheduleFirstDeparture } from '../departures/service.js';
import { prepareDefaultTourList, prepareShapedTourList, readTourListQuery } from './list-statements.js';
import { tourRating } from './rating.js';
import {
  countActiveBookings,
  deleteTourRow,
  findTourById,
  insertTour,
  lockDivisionForReference,
  lockTourTypeForReference,
  type NewTourRow,
  prepareTourBySlug,
  prepareTourViewById,
  type TourRow,
  type TourView,
  tourSlugsLike,
  updateTourRow,
} from './repo.js';
import type { CreateTourInput, TourDto, TourListFilters, UpdateTourInput } from './schemas.js';

export interface TourServiceDeps {
  db: Database;
  storage: Storage;
  log: CleanupLogger;
  clock: Clock;
}

type TourListItem = Partial<TourDto> & Pick<TourDto, '_id'>;

/** Slugs that would be shadowed by the static routes under /tour. */
const RESERVED_SLUGS = ['tour-types', 'create', 'create-tour-type', 'create-tour-types'];

export const tourSlugBase = (title: string) => toSlug(title, 'tour');

/** The API's tour from its row, which PostgreSQL shaped already (repo `tourViewColumns`) but for the rating. */
export function toTourDto(row: TourView): TourDto {
  return {
    _id: row._id,
    slug: row.slug,
    title: row.title,
    description: row.description,
    images: row.images,
    costFrom: row.costFrom,
    currency: row.currency,
    maxGuest: row.maxGuest,
    minAge: row.minAge,
    availableSeats: row.availableSeats,
    departureLocation: row.departureLocation,
    arrivalLocation: row.arrivalLocation,
    location: row.location,
    startDate: row.startDate,
    endDate: row.endDate,
    amenities: row.amenities,
    included: row.included,
    excluded: row.excluded,
    tourPlan: row.tourPlan,
    division: row.division,
    tourType: row.tourType,
    cancellationPolicy: row.cancellationPolicy,
    departures: row.departures,
    nextDeparture: row.nextDeparture,
    rating: tourRating(row.ratingSum, row.ratingCount),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

async function assertReferencesExist(tx: Tx, input: { division?: string; tourType?: string }) {
  if (input.division !== undefined && !(await lockDivisionForReference(tx, input.division))) {
    throw validationError('division', 'division does not exist');
  }
  if (input.tourType !== undefined && !(await lockTourTypeForReference(tx, input.tourType))) {
    throw validationError('tourType', 'tourType does not exist');
  }
}

/** Maps API fields to columns; only the fields present in `input` are returned. */
function tourColumns(input: Partial<CreateTourInput>): Partial<NewTourRow> {
  const columns: Partial<NewTourRow> = {};
  if (input.title !== undefined) columns.title = input.title;
  if (input.description !== undefined) columns.description = input.description;
  if (input.location !== undefined) columns.location = input.location;
  if (input.departureLocation !== undefined) columns.departureLocation = input.departureLocation;
  if (input.arrivalLocation !== undefined) columns.arrivalLocation = input.arrivalLocation;
  if (input.costFrom !== undefined) columns.costFromMinor = toMinor(input.costFrom);
  if (input.included !== undefined) columns.included = input.included;
  if (input.excluded !== undefined) columns.excluded = input.excluded;
  if (input.amenities !== undefined) columns.amenities = input.amenities;
  if (input.tourPlan !== undefined) columns.tourPlan = input.tourPlan;
  if (input.maxGuest !== undefined) columns.maxGuest = input.maxGuest;
  if (input.minAge !== undefined) columns.minAge = input.minAge;
  if (input.division !== undefined) columns.divisionId = input.division;
  if (input.tourType !== undefined) columns.tourTypeId = input.tourType;
  if (input.cancellationPolicy !== undefined) columns.cancellationPolicy = input.cancellationPolicy;
  return columns;
}

/**
 * The tour's images after an update: `images` (when given) says which existing URLs stay, in that
 * order; `deleteImages` removes more; new uploads are appended. Without either list, every
 * existing image stays, whether or not files were uploaded.
 */
export function nextImages(
  existing: readonly string[],
  input: { images?: string[]; deleteImages?: string[] },
  uploaded: readonly string[],
) {
  const kept = input.images
    ? [...new Set(input.images)].filter((url) => existing.includes(url))
    : [...existing];
  const deleted = new Set(input.deleteImages ?? []);
  const images = [...kept.filter((url) => !deleted.has(url)), ...uploaded];
  const removed = existing.filter((url) => !images.includes(url));
  return { images, removed };
}

const isForeignKeyViolation = (err: unknown): boolean =>
  findPgError(err, (e) => e.code === FOREIGN_KEY_VIOLATION) !== undefined;

export function createTourService({ db, storage, log, clock }: TourServiceDeps) {
  const tourBySlug = prepareTourBySlug(db);
  const defaultList = prepareDefaultTourList(db);
  const shapedList = prepareShapedTourList(db);
  const tourById = prepareTourViewById(db);

  async function view(id: string): Promise<TourDto> {
    const row = await tourById(id, clock.now());
    if (!row) throw notFound('Tour not found');
    return toTourDto(row);
  }

  return {
    /** `query` as the route validated it: the departure-date filters are dates already. */
    async list(query: Record<string, unknown> & TourListFilters) {
      const now = clock.now();
      const request = readTourListQuery(query);
      // No filter, search or known sort field: the front page's order (newest first).
      const { rows, total } =
        request.shape === '|'
          ? await defaultList(request.limit, request.offset, now)
          : await shapedList(request, now);
      return {
        items: rows.map((row) => project(toTourDto(row), request.fields) as TourListItem),
        meta: listMeta(request, total),
      };
    },

    async getBySlug(slug: string): Promise<TourDto> {
      const row = await tourBySlug(slug, clock.now());
      if (!row) throw notFound('Tour not found');
      return toTourDto(row);
    },

    async create(input: CreateTourInput, images: UploadedImage[]): Promise<TourDto> {
      const row = await withStoredImages(storage, images, (urls) =>
        db.transaction(async (tx) => {
          await assertReferencesExist(tx, input);
          return writeWithUniqueSlug({
            base: tourSlugBase(input.title),
            constraint: 'tours_slug_key',
            reserved: RESERVED_SLUGS,
            taken: (base) => tourSlugsLike(tx, base),
            // A savepoint per attempt, so a slug conflict does not abort the transaction.
            write: (slug) =>
              tx.transaction((sp) =>
                insertTour(sp, {
                  ...(tourColumns(input) as NewTourRow),
                  slug,
                  images: urls,
                }),
              ),
          }).then(async (tour) => {
            // The dates a tour is created with are its first departure.
            await scheduleFirstDeparture(tx, tour, { startDate: input.startDate, endDate: input.endDate });
            return tour;
          });
        }),
      );
      return view(row.id);
    },

    async update(id: string, input: UpdateTourInput, images: UploadedImage[]): Promise<TourDto> {
      const { row, removed } = await withStoredImages(storage, images, (uploaded) =>
        db.transaction(async (tx) => {
          const current = await findTourById(tx, id, true);
          if (!current) throw notFound('Tour not found');
          await assertReferencesExist(tx, input);
          // Legacy clients reschedule a tour through its dates and seats: they apply to its next departure.
          await applyLegacySchedule(tx, current, input, clock.now());
          const next = nextImages(current.images, input, uploaded);
          const changes = { ...tourColumns(input), images: next.images };
          const base = input.title === undefined ? undefined : tourSlugBase(input.title);
          const updated =
            base === undefined || slugBelongsTo(current.slug, base)
              ? await updateTourRow(tx, id, changes)
              : await writeWithUniqueSlug({
                  base,
                  constraint: 'tours_slug_key',
                  reserved: RESERVED_SLUGS,
                  taken: (b) => tourSlugsLike(tx, b),
                  write: (slug) => tx.transaction((sp) => updateTourRow(sp, id, { ...changes, slug })),
                });
          return { row: updated!, removed: next.removed };
        }),
      );
      await removeImageFiles(storage, removed, log);
      return view(row.id);
    },

    async remove(id: string): Promise<void> {
      let removed: TourRow;
      try {
        removed = await db.transaction(async (tx) => {
          const current = await findTourById(tx, id, true);
          if (!current) throw notFound('Tour not found');
          const active = await countActiveBookings(tx, id);
          if (active > 0) {
            throw conflict(`Tour has ${active} pending or paid booking(s) and cannot be deleted`);
          }
          await deleteTourRow(tx, id);
          return current;
        });
      } catch (err) {
        if (isForeignKeyViolation(err)) {
          // Cancelled or failed bookings still point at the tour; their history is kept.
          throw conflict('Tour has past bookings and cannot be deleted');
        }
        throw err;
      }
      await removeImageFiles(storage, removed.images, log);
    },
  };
}

export type TourService = ReturnType<typeof createTourService>;
