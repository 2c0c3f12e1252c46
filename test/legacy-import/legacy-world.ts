import bcrypt from 'bcryptjs';
import { ObjectId } from 'bson';
import type { LegacyDoc } from '../helpers/legacy-dump.js';

/** The legacy backend's bcrypt cost (BCRYPT_SALT_ROUND=10, legacy-backend.md §5). */
export const LEGACY_COST = 10;
/** Cheaper hashes for the other accounts, so the fixture builds quickly. */
const CHEAP_COST = 4;

export const PASSWORDS = { admin: 'Legacy-Admin#2025', alice: 'Alice-Pass#1', bob: 'Bob-Pass#22' };

const DAY = 86_400_000;
const cloudinary = (name: string) => `https://res.cloudinary.com/legacy/image/upload/v1723456789/${name}.jpg`;

/**
 * A legacy database as the Mongoose schemas of legacy-backend.md §2 describe it, dated around `now`:
 * credentials and Google users (blocked, deleted and unverified ones too), two divisions and tour types,
 * tours with and without bookings, an overbooked one, every booking and payment status, and records
 * the import must refuse (each listed in `refused` with the words its reason contains).
 */
export function legacyWorld(now: Date) {
  const at = (days: number) => new Date(now.getTime() + days * DAY);
  const id = () => new ObjectId();
  const ids = {
    dhaka: id(),
    chattogram: id(),
    dhakaAgain: id(),
    adventure: id(),
    beach: id(),
    adventureAgain: id(),
    admin: id(),
    alice: id(),
    gina: id(),
    bob: id(),
    blocked: id(),
    deleted: id(),
    unverified: id(),
    aliceAgain: id(),
    badRole: id(),
    sundarbans: id(),
    coxs: id(),
    quiet: id(),
    orphanTour: id(),
    negativeTour: id(),
    ghostDivision: id(),
    ghostUser: id(),
    ghostBooking: id(),
  };
  const created = at(-200);
  const stamp = (days: number) => ({ createdAt: at(days), updatedAt: at(days) });

  const divisions: LegacyDoc[] = [
    {
      _id: ids.dhaka,
      name: 'Dhaka',
      slug: 'dhaka-division',
      thumbnail: cloudinary('dhaka'),
      description: 'Capital',
      ...stamp(-300),
    },
    {
      _id: ids.chattogram,
      name: 'Chattogram',
      slug: 'chattogram-division',
      thumbnail: cloudinary('ctg'),
      ...stamp(-299),
    },
    { _id: ids.dhakaAgain, name: 'dhaka', slug: 'dhaka-division-0', ...stamp(-298) },
  ];
  const tourtypes: LegacyDoc[] = [
    { _id: ids.adventure, name: 'Adventure', ...stamp(-300) },
    { _id: ids.beach, name: 'Beach', ...stamp(-300) },
    { _id: ids.adventureAgain, name: 'ADVENTURE', ...stamp(-300) },
  ];
  const credentials = (email: string) => ({ provider: 'credentials', providerId: email });
  const users: LegacyDoc[] = [
    {
      _id: ids.admin,
      name: 'Super admin',
      email: 'admin@legacy.test',
      password: bcrypt.hashSync(PASSWORDS.admin, LEGACY_COST),
      role: 'SUPER_ADMIN',
      isVerified: true,
      isActive: 'ACTIVE',
      isDeleted: false,
      auths: [credentials('admin@legacy.test')],
      createdAt: created,
      updatedAt: created,
    },
    {
      _id: ids.alice,
      name: 'Alice Rahman',
      email: 'alice@legacy.test',
      password: bcrypt.hashSync(PASSWORDS.alice, CHEAP_COST),
      role: 'USER',
      phone: '+8801711111111',
      address: 'Dhanmondi, Dhaka',
      isVerified: true,
      isActive: 'ACTIVE',
      isDeleted: false,
      auths: [credentials('alice@legacy.test')],
      ...stamp(-100),
    },
    {
      _id: ids.gina,
      name: 'Gina Google',
      email: 'gina@gmail.test',
      picture: 'https://lh3.googleusercontent.com/a/gina-photo',
      role: 'USER',
      isVerified: true,
      isActive: 'ACTIVE',
      isDeleted: false,
      auths: [{ provider: 'google', providerId: '109876543210987654321' }],
      ...stamp(-20),
    },
    {
      _id: ids.bob,
      name: 'Bob Both',
      email: 'bob@legacy.test',
      password: bcrypt.hashSync(PASSWORDS.bob, CHEAP_COST),
      role: 'GUIDE',
      phone: '01812345678',
      address: 'Agrabad, Chattogram',
      isVerified: true,
      auths: [credentials('bob@legacy.test'), { provider: 'google', providerId: '100000000000000000042' }],
      ...stamp(-3),
    },
    {
      _id: ids.blocked,
      name: 'Blocked Bea',
      email: 'blocked@legacy.test',
      password: bcrypt.hashSync('Blocked-Pass#1', CHEAP_COST),
      isVerified: true,
      isActive: 'BLOCKED',
      auths: [credentials('blocked@legacy.test')],
      ...stamp(-50),
    },
    {
      _id: ids.deleted,
      name: 'Deleted Dan',
      email: 'deleted@legacy.test',
      password: bcrypt.hashSync('Deleted-Pass#1', CHEAP_COST),
      isVerified: true,
      isDeleted: true,
      auths: [credentials('deleted@legacy.test')],
      ...stamp(-40),
    },
    {
      _id: ids.unverified,
      name: 'Unverified Uma',
      email: 'uma@legacy.test',
      password: bcrypt.hashSync('Uma-Pass#1', CHEAP_COST),
      auths: [credentials('uma@legacy.test')],
      ...stamp(-1),
    },
    // Broken: the same address in other case (the legacy unique index was case-sensitive), an unknown role.
    { _id: ids.aliceAgain, name: 'Alice Again', email: 'Alice@Legacy.test', auths: [], ...stamp(-10) },
    { _id: ids.badRole, name: 'Odd Role', email: 'odd@legacy.test', role: 'OWNER', ...stamp(-10) },
  ];
  const tour = (doc: LegacyDoc): LegacyDoc => ({
    images: [],
    included: [],
    excluded: [],
    amenities: [],
    tourPlan: [],
    ...stamp(-150),
    ...doc,
  });
  const tours: LegacyDoc[] = [
    tour({
      _id: ids.sundarbans,
      title: 'Sundarbans Safari',
      slug: 'sundarbans-safari',
      description: 'Mangrove forest by boat',
      location: 'Khulna',
      images: [cloudinary('sundarbans-1'), cloudinary('sundarbans-2')],
      costFrom: 1500.5,
      startDate: at(30),
      endDate: at(33),
      included: ['Boat', 'Meals'],
      maxGuest: 10,
      minAge: 12,
      division: ids.dhaka,
      tourType: ids.adventure,
    }),
    tour({
      _id: ids.coxs,
      title: "Cox's Bazar Beach",
      slug: 'coxs-bazar-beach',
      costFrom: 2000,
      startDate: at(10),
      endDate: at(12),
      maxGuest: 3,
      division: ids.chattogram,
      tourType: ids.beach,
    }),
    tour({
      _id: ids.quiet,
      title: 'Quiet Hills',
      slug: 'quiet-hills',
      division: ids.chattogram,
      tourType: ids.adventure,
    }),
    tour({
      _id: ids.orphanTour,
      title: 'Nowhere',
      slug: 'nowhere',
      division: ids.ghostDivision,
      tourType: ids.beach,
    }),
    tour({
      _id: ids.negativeTour,
      title: 'Cheap',
      slug: 'cheap',
      costFrom: -100,
      division: ids.dhaka,
      tourType: ids.beach,
    }),
  ];

  const bookings: LegacyDoc[] = [];
  const payments: LegacyDoc[] = [];
  let tran = 0;
  /** A booking and its payment, as the legacy createBooking wrote them (amount = costFrom × guests). */
  const book = (
    user: ObjectId,
    tourId: ObjectId,
    guestCount: number,
    status: string,
    paymentStatus: string | null,
    amount: number,
    days: number,
  ) => {
    const bookingId = id();
    const paymentId = id();
    bookings.push({
      _id: bookingId,
      user,
      tour: tourId,
      guestCount,
      status,
      payment: paymentId,
      ...stamp(days),
    });
    if (paymentStatus) {
      payments.push({
        _id: paymentId,
        booking: bookingId,
        transactionId: `tran_${1723456789000 + tran++}_${tran}`,
        status: paymentStatus,
        amount,
        ...(paymentStatus === 'PAID' && {
          paymentGatewayData: { status: 'VALID', val_id: `val-${tran}`, bank_tran_id: `bank-${tran}` },
        }),
      });
    }
    return { bookingId, paymentId };
  };
  const paid = book(ids.alice, ids.sundarbans, 2, 'COMPLETE', 'PAID', 3001, -5);
  const pending = book(ids.alice, ids.sundarbans, 1, 'PENDING', 'UNPAID', 1500.5, -2);
  const cancelled = book(ids.bob, ids.sundarbans, 1, 'CANCEL', 'CANCELLED', 1500.5, -4);
  const failed = book(ids.bob, ids.sundarbans, 3, 'FAILED', 'FAILED', 4501.5, -6);
  const refunded = book(ids.gina, ids.sundarbans, 2, 'CANCEL', 'REFUNDED', 3001, -8);
  // Five seats sold on a tour of three: the legacy system never enforced maxGuest.
  const coxsPaid = book(ids.alice, ids.coxs, 3, 'COMPLETE', 'PAID', 6000, -1);
  const coxsPending = book(ids.bob, ids.coxs, 2, 'PENDING', 'UNPAID', 4000, -1);
  const noPayment = book(ids.gina, ids.coxs, 1, 'CANCEL', null, 0, -1);
  // Broken bookings.
  const ghostUserBooking = book(ids.ghostUser, ids.sundarbans, 1, 'PENDING', 'UNPAID', 1500.5, -1);
  const refusedTourBooking = book(ids.alice, ids.orphanTour, 1, 'PENDING', null, 0, -1);
  const zeroGuests = book(ids.alice, ids.sundarbans, 0, 'PENDING', null, 0, -1);
  const oddStatus = book(ids.alice, ids.sundarbans, 1, 'SHIPPED', null, 0, -1);
  // Broken payments of a good booking with no payment, and others.
  const extra = (doc: LegacyDoc) =>
    payments.push({ _id: id(), transactionId: `tran_x_${tran++}`, status: 'UNPAID', amount: 10, ...doc });
  const negative = id();
  const lost = id();
  const twice = id();
  const ghost = id();
  const secondPayment = id();
  payments.push({
    _id: negative,
    booking: noPayment.bookingId,
    transactionId: 'tran_negative',
    status: 'PAID',
    amount: -5,
  });
  payments.push({
    _id: lost,
    booking: noPayment.bookingId,
    transactionId: 'tran_lost',
    status: 'LOST',
    amount: 10,
  });
  payments.push({
    _id: twice,
    booking: noPayment.bookingId,
    transactionId: payments[0]!.transactionId,
    status: 'UNPAID',
    amount: 10,
  });
  payments.push({
    _id: ghost,
    booking: ids.ghostBooking,
    transactionId: 'tran_ghost',
    status: 'PAID',
    amount: 10,
  });
  extra({ _id: secondPayment, booking: paid.bookingId });
  // The ghost-user booking's payment follows its booking out.

  const hex = (o: ObjectId) => o.toHexString();
  /** Every refusal the import must report: collection, legacy id and a part of its reason. */
  const refused = [
    ['divisions', hex(ids.dhakaAgain), 'already used by another division'],
    ['tourtypes', hex(ids.adventureAgain), 'already used by another tour type'],
    ['users', hex(ids.aliceAgain), 'alice@legacy.test is already used'],
    ['users', hex(ids.badRole), 'role "OWNER"'],
    ['tours', hex(ids.orphanTour), `division ${hex(ids.ghostDivision)} was not imported`],
    ['tours', hex(ids.negativeTour), 'costFrom -100'],
    ['bookings', hex(ghostUserBooking.bookingId), `user ${hex(ids.ghostUser)} was not imported`],
    ['bookings', hex(refusedTourBooking.bookingId), `tour ${hex(ids.orphanTour)} was not imported`],
    ['bookings', hex(zeroGuests.bookingId), 'guestCount 0'],
    ['bookings', hex(oddStatus.bookingId), 'status "SHIPPED"'],
    [
      'payments',
      hex(ghostUserBooking.paymentId),
      `booking ${hex(ghostUserBooking.bookingId)} was not imported`,
    ],
    ['payments', hex(negative), 'amount -5'],
    ['payments', hex(lost), 'status "LOST"'],
    ['payments', hex(twice), 'is already used by another payment'],
    ['payments', hex(ghost), `booking ${hex(ids.ghostBooking)} was not imported`],
    ['payments', hex(secondPayment), 'already has a payment'],
  ] as const;

  return {
    collections: { divisions, tourtypes, users, tours, bookings, payments },
    ids,
    bookings: { paid, pending, cancelled, failed, refunded, coxsPaid, coxsPending, noPayment },
    refused,
    /** What imports: every document less the refused ones. */
    imported: {
      divisions: 2,
      tourtypes: 2,
      users: 7,
      tours: 3,
      bookings: 8,
      payments: 7,
    },
  };
}
