import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { AppContext } from '../../src/context.js';
import { landscapePng, PALETTES } from '../../src/db/demo-images.js';
import { departures } from '../../src/db/schema/index.js';
import { writeWithUniqueSlug } from '../../src/lib/slug.js';
import { type DivisionRow, divisionSlugsLike, insertDivision } from '../../src/modules/divisions/repo.js';
import { divisionSlugBase } from '../../src/modules/divisions/service.js';
import {
  insertTour,
  insertTourType,
  type NewTourRow,
  type TourRow,
  type TourTypeRow,
  tourSlugsLike,
} from '../../src/modules/tours/repo.js';
import { tourSlugBase } from '../../src/modules/tours/service.js';

/** Catalogue factories for any test that needs divisions, tour types or tours (inserted directly). */

const unique = () => randomBytes(4).toString('hex');
const DAY_MS = 24 * 60 * 60 * 1000;

export interface DivisionOptions {
  name?: string;
  description?: string | null;
  thumbnail?: string | null;
}

export async function createDivision(ctx: AppContext, options: DivisionOptions = {}): Promise<DivisionRow> {
  const name = options.name ?? `Division ${unique()}`;
  return writeWithUniqueSlug({
    base: divisionSlugBase(name),
    constraint: 'divisions_slug_key',
    taken: (base) => divisionSlugsLike(ctx.db, base),
    write: (slug) =>
      insertDivision(ctx.db, {
        name,
        slug,
        description: options.description === undefined ? `About ${name}` : options.description,
        thumbnail: options.thumbnail ?? null,
      }),
  });
}

export async function createTourType(ctx: AppContext, options: { name?: string } = {}): Promise<TourTypeRow> {
  return insertTourType(ctx.db, options.name ?? `Type ${unique()}`);
}

export interface TourOptions extends Partial<Omit<NewTourRow, 'id' | 'slug' | 'divisionId' | 'tourTypeId'>> {
  /** Division id; a new division is created when absent. */
  division?: string;
  /** Tour type id; a new tour type is created when absent. */
  tourType?: string;
  /** The start of its one departure (default in 30 days); it ends 3 days later unless `endDate` says. */
  startDate?: Date;
  endDate?: Date;
}

/** A tour row with its one departure's id and dates. */
export type TestTour = TourRow & { departureId: string; startDate: Date; endDate: Date };

/**
 * A bookable tour with one departure: starts in 30 days (relative to the app clock), costs 1500.50 BDT per
 * guest, 20 seats. Money is given in minor units (`costFromMinor`), as stored.
 */
export async function createTour(ctx: AppContext, options: TourOptions = {}): Promise<TestTour> {
  const { division, tourType, startDate, endDate, ...columns } = options;
  const divisionId = division ?? (await createDivision(ctx)).id;
  const tourTypeId = tourType ?? (await createTourType(ctx)).id;
  const title = columns.title ?? `Tour ${unique()}`;
  const start = startDate ?? new Date(ctx.clock.now().getTime() + 30 * DAY_MS);
  const end = endDate ?? new Date(start.getTime() + 3 * DAY_MS);
  const tour = await writeWithUniqueSlug({
    base: tourSlugBase(title),
    constraint: 'tours_slug_key',
    taken: (base) => tourSlugsLike(ctx.db, base),
    write: (slug) =>
      insertTour(ctx.db, {
        description: 'A test tour',
        location: 'Test Location',
        costFromMinor: 150_050,
        maxGuest: 20,
        minAge: 0,
        ...columns,
        title,
        slug,
        divisionId,
        tourTypeId,
      }),
  });
  const [departure] = await ctx.db
    .insert(departures)
    .values({
      tourId: tour.id,
      startDate: start,
      endDate: end,
      capacity: tour.maxGuest,
      currency: tour.currency,
    })
    .returning();
  return { ...tour, departureId: departure!.id, startDate: start, endDate: end };
}

/** A real (tiny) PNG image. */
export const pngImage = (seed = 1): Buffer => landscapePng(seed, PALETTES[seed % PALETTES.length]!, 16, 10);
export const jpegImage = (): Buffer =>
  Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 1), Buffer.from([0xff, 0xd9])]);

export interface MultipartFile {
  field: string;
  content: Buffer;
  filename?: string;
  /** The declared type; the server checks content, so a lie here must not help. */
  type?: string;
}

/** A multipart/form-data body for `app.inject`: `data` as the JSON text field, plus files. */
export async function multipart(
  data: Record<string, unknown> | string | undefined,
  files: MultipartFile[] = [],
): Promise<{ payload: Buffer; headers: Record<string, string> }> {
  const form = new FormData();
  if (data !== undefined) form.append('data', typeof data === 'string' ? data : JSON.stringify(data));
  for (const f of files) {
    form.append(f.field, new Blob([f.content], { type: f.type ?? 'image/png' }), f.filename ?? 'image.png');
  }
  const encoded = new Response(form);
  return {
    payload: Buffer.from(await encoded.arrayBuffer()),
    headers: { 'content-type': encoded.headers.get('content-type')! },
  };
}

/** Names of the image files the local storage driver holds under a test app's DATA_DIR. */
export async function storedImageFiles(dataDir: string): Promise<string[]> {
  try {
    return (await readdir(path.join(dataDir, 'files', 'images'))).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** The characters of generated image names (random bytes in URL-safe base64), before the extension. */
export const IMAGE_NAME_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** One image name per character of that alphabet, starting with it and holding every other one. */
export const imageNamesForEveryCharacter = (ext = 'png'): string[] =>
  [...IMAGE_NAME_ALPHABET].map((first) => `${first}${IMAGE_NAME_ALPHABET}.${ext}`);

/** Names of no stored image that the storage would refuse as keys: never a 500. */
export const UNSAFE_IMAGE_NAMES = ['a..png', '..png', '...', '.hidden.png', 'a%2F..%2Fb.png', 'a%00.png'];
