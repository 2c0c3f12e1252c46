import { EJSON, ObjectId } from 'bson';
import {
  BOOKING_STATUSES,
  type BookingStatus,
  IS_ACTIVE,
  type IsActive,
  PAYMENT_STATUSES,
  type PaymentStatus,
  ROLES,
  type Role,
} from '../../db/schema/index.js';
import { toMinor } from '../../lib/money.js';
import { toSlug } from '../../lib/slug.js';
import type { LegacyDocument } from './readers.js';

/*
 * One legacy document in, one row to load out, or the reason it cannot be loaded. Mappers check what a
 * document says on its own (types, enums, amounts); what needs other records (references, duplicates) is
 * the loader's.
 */

export type Mapped<T> = { row: T; notes: string[] } | { refused: string };

const refuse = (reason: string) => ({ refused: reason }) as const;

/** A 24-hex ObjectId as lower-case text, from an ObjectId or its string form. */
export function objectIdText(value: unknown): string | undefined {
  if (value instanceof ObjectId) return value.toHexString();
  if (typeof value === 'string' && /^[0-9a-f]{24}$/i.test(value)) return value.toLowerCase();
  return undefined;
}

function text(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

function texts(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((v): v is string => typeof v === 'string' && v.trim() !== '')
    : [];
}

/** A JS number from any of the codec's numeric values (Int32, Long, Double, Decimal128 included). */
function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value && typeof value === 'object' && 'toString' in value) {
    const kind = (value as { _bsontype?: string })._bsontype;
    if (kind === 'Long' || kind === 'Decimal128' || kind === 'Int32' || kind === 'Double') {
      return Number(String(value));
    }
  }
  return undefined;
}

function dateOf(value: unknown): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (typeof value === 'string' || typeof value === 'number') {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? null : date;
  }
  return null;
}

function bool(value: unknown, fallback: boolean): boolean {
  return typeof value === 'boolean' ? value : fallback;
}

/** Money in major units (BDT) to minor units; undefined when it is no possible amount. */
function amountMinor(value: unknown): number | undefined {
  const major = numberOf(value);
  if (major === undefined || !Number.isFinite(major) || major < 0 || major > 1e12) return undefined;
  return toMinor(major);
}

function wholeNumber(value: unknown, min: number): number | null | undefined {
  if (value === undefined || value === null) return null;
  const n = numberOf(value);
  return n !== undefined && Number.isInteger(n) && n >= min && n <= 2_147_483_647 ? n : undefined;
}

const createdOf = (doc: LegacyDocument, fallback: Date) => dateOf(doc.createdAt) ?? fallback;

interface Stamped {
  legacyId: string;
  createdAt: Date;
  updatedAt: Date;
}

function stamps(doc: LegacyDocument, legacyId: string): Stamped {
  // Without timestamps (payments in the lecture code) the ObjectId's own creation second stands in.
  const fromId = new ObjectId(legacyId).getTimestamp();
  const createdAt = createdOf(doc, fromId);
  return { legacyId, createdAt, updatedAt: dateOf(doc.updatedAt) ?? createdAt };
}

function withId<T>(doc: LegacyDocument, build: (legacyId: string) => Mapped<T>): Mapped<T> {
  const legacyId = objectIdText(doc._id);
  return legacyId ? build(legacyId) : refuse('_id is not an ObjectId');
}

// ---------------------------------------------------------------------------------------------- users

export interface UserRow extends Stamped {
  name: string;
  email: string;
  passwordHash: string | null;
  role: Role;
  phone: string | null;
  picture: string | null;
  address: string | null;
  isDeleted: boolean;
  isActive: IsActive;
  isVerified: boolean;
  /** The Google subject the account signs in with, if linked. */
  googleId: string | null;
}

const BCRYPT = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

export function mapUser(doc: LegacyDocument): Mapped<UserRow> {
  return withId(doc, (legacyId) => {
    const email = text(doc.email)?.toLowerCase();
    if (!email || !EMAIL.test(email))
      return refuse(`email ${JSON.stringify(doc.email ?? null)} is not an address`);
    const name = text(doc.name);
    if (!name) return refuse('name is missing');
    const role = (doc.role ?? 'USER') as Role;
    if (!ROLES.includes(role))
      return refuse(`role ${JSON.stringify(doc.role)} is not one of ${ROLES.join(', ')}`);
    const isActive = (doc.isActive ?? 'ACTIVE') as IsActive;
    if (!IS_ACTIVE.includes(isActive)) {
      return refuse(`isActive ${JSON.stringify(doc.isActive)} is not one of ${IS_ACTIVE.join(', ')}`);
    }
    const notes: string[] = [];
    let passwordHash: string | null = null;
    if (typeof doc.password === 'string' && doc.password !== '') {
      if (BCRYPT.test(doc.password)) passwordHash = doc.password;
      else
        notes.push(
          'password is not a bcrypt hash and was not kept: the user signs in after a password reset',
        );
    }
    const auths = Array.isArray(doc.auths)
      ? (doc.auths as { provider?: unknown; providerId?: unknown }[])
      : [];
    const google = auths.filter((a) => a?.provider === 'google' && text(a.providerId));
    if (google.length > 1) notes.push('several Google accounts: the first stays linked');
    return {
      row: {
        ...stamps(doc, legacyId),
        name,
        email,
        passwordHash,
        role,
        phone: text(doc.phone),
        picture: text(doc.picture),
        address: text(doc.address),
        isDeleted: bool(doc.isDeleted, false),
        isActive,
        // MR's clone spells it isVarified.
        isVerified: bool(doc.isVerified ?? doc.isVarified, false),
        googleId: google[0] ? text(google[0].providerId) : null,
      },
      notes,
    };
  });
}

// ------------------------------------------------------------------------------------------ catalogue

export interface DivisionRow extends Stamped {
  name: string;
  slug: string;
  thumbnail: string | null;
  description: string | null;
}

export function mapDivision(doc: LegacyDocument): Mapped<DivisionRow> {
  return withId(doc, (legacyId) => {
    const name = text(doc.name);
    if (!name) return refuse('name is missing');
    return {
      row: {
        ...stamps(doc, legacyId),
        name,
        slug: text(doc.slug) ?? `${toSlug(name, legacyId)}-division`,
        thumbnail: text(doc.thumbnail),
        description: text(doc.description),
      },
      notes: [],
    };
  });
}

export interface TourTypeRow extends Stamped {
  name: string;
}

export function mapTourType(doc: LegacyDocument): Mapped<TourTypeRow> {
  return withId(doc, (legacyId) => {
    const name = text(doc.name);
    return name ? { row: { ...stamps(doc, legacyId), name }, notes: [] } : refuse('name is missing');
  });
}

export interface TourRow extends Stamped {
  title: string;
  slug: string;
  description: string | null;
  location: string | null;
  departureLocation: string | null;
  arrivalLocation: string | null;
  images: string[];
  costFromMinor: number | null;
  included: string[];
  excluded: string[];
  amenities: string[];
  tourPlan: string[];
  maxGuest: number | null;
  minAge: number | null;
  division: string;
  tourType: string;
  startDate: Date | null;
  endDate: Date | null;
}

export function mapTour(doc: LegacyDocument): Mapped<TourRow> {
  return withId(doc, (legacyId) => {
    const title = text(doc.title);
    if (!title) return refuse('title is missing');
    const division = objectIdText(doc.division);
    if (!division) return refuse('division is not an ObjectId');
    const tourType = objectIdText(doc.tourType);
    if (!tourType) return refuse('tourType is not an ObjectId');
    const costFromMinor =
      doc.costFrom === undefined || doc.costFrom === null ? null : amountMinor(doc.costFrom);
    if (costFromMinor === undefined)
      return refuse(`costFrom ${String(doc.costFrom)} is not a possible price`);
    const maxGuest = wholeNumber(doc.maxGuest, 0);
    if (maxGuest === undefined) return refuse(`maxGuest ${String(doc.maxGuest)} is not a number of seats`);
    const minAge = wholeNumber(doc.minAge, 0);
    if (minAge === undefined) return refuse(`minAge ${String(doc.minAge)} is not an age`);
    return {
      row: {
        ...stamps(doc, legacyId),
        title,
        slug: text(doc.slug) ?? toSlug(title, legacyId),
        description: text(doc.description),
        location: text(doc.location),
        departureLocation: text(doc.departureLocation),
        arrivalLocation: text(doc.arrivalLocation),
        images: texts(doc.images),
        costFromMinor,
        included: texts(doc.included),
        excluded: texts(doc.excluded),
        amenities: texts(doc.amenities),
        tourPlan: texts(doc.tourPlan),
        maxGuest,
        minAge,
        division,
        tourType,
        startDate: dateOf(doc.startDate),
        endDate: dateOf(doc.endDate),
      },
      notes: [],
    };
  });
}

// ------------------------------------------------------------------------------- bookings and payments

/** Spellings of the legacy statuses in the backend's public clones (legacy-backend.md §6). */
const BOOKING_ALIASES: Record<string, BookingStatus> = {
  COMPLETED: 'COMPLETE',
  CONFIRM: 'COMPLETE',
  CANCELLED: 'CANCEL',
  CANCELED: 'CANCEL',
  CANCLE: 'CANCEL',
};
const PAYMENT_ALIASES: Record<string, PaymentStatus> = { CANCLLED: 'CANCELLED' };

export interface BookingRow extends Stamped {
  user: string;
  tour: string;
  status: BookingStatus;
  guestCount: number;
}

export function mapBooking(doc: LegacyDocument): Mapped<BookingRow> {
  return withId(doc, (legacyId) => {
    const user = objectIdText(doc.user);
    if (!user) return refuse('user is not an ObjectId');
    const tour = objectIdText(doc.tour);
    if (!tour) return refuse('tour is not an ObjectId');
    const raw = String(doc.status ?? 'PENDING');
    const status = BOOKING_STATUSES.includes(raw as BookingStatus)
      ? (raw as BookingStatus)
      : BOOKING_ALIASES[raw];
    if (!status)
      return refuse(`status ${JSON.stringify(doc.status)} is not one of ${BOOKING_STATUSES.join(', ')}`);
    const guestCount = wholeNumber(doc.guestCount, 1);
    if (!guestCount) return refuse(`guestCount ${String(doc.guestCount)} is not a number of guests`);
    return { row: { ...stamps(doc, legacyId), user, tour, status, guestCount }, notes: [] };
  });
}

export interface PaymentRow {
  legacyId: string;
  booking: string;
  transactionId: string;
  status: PaymentStatus;
  amountMinor: number;
  gatewayData: Record<string, unknown> | null;
  /** Payments of the lecture code have no timestamps: the loader falls back on the booking's. */
  createdAt: Date | null;
  updatedAt: Date | null;
}

export function mapPayment(doc: LegacyDocument): Mapped<PaymentRow> {
  return withId(doc, (legacyId) => {
    const booking = objectIdText(doc.booking);
    if (!booking) return refuse('booking is not an ObjectId');
    const transactionId = text(doc.transactionId);
    if (!transactionId) return refuse('transactionId is missing');
    const raw = String(doc.status ?? 'UNPAID');
    const status = PAYMENT_STATUSES.includes(raw as PaymentStatus)
      ? (raw as PaymentStatus)
      : PAYMENT_ALIASES[raw];
    if (!status)
      return refuse(`status ${JSON.stringify(doc.status)} is not one of ${PAYMENT_STATUSES.join(', ')}`);
    const amount = amountMinor(doc.amount);
    if (amount === undefined) return refuse(`amount ${String(doc.amount)} is not a possible amount`);
    const gateway = doc.paymentGatewayData;
    return {
      row: {
        legacyId,
        booking,
        transactionId,
        status,
        amountMinor: amount,
        // Kept as plain JSON (ObjectIds and dates as Extended JSON) for the jsonb column.
        gatewayData:
          gateway && typeof gateway === 'object' && !Array.isArray(gateway)
            ? (EJSON.serialize(gateway, { relaxed: true }) as Record<string, unknown>)
            : null,
        createdAt: dateOf(doc.createdAt),
        updatedAt: dateOf(doc.updatedAt),
      },
      notes: [],
    };
  });
}
