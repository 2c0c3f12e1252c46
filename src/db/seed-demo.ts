import { sql } from 'drizzle-orm';
import type { Clock } from '../lib/clock.js';
import { toMinor } from '../lib/money.js';
import { hashPassword } from '../lib/passwords.js';
import type { Storage } from '../lib/storage/storage.js';
import { divisionSlugBase } from '../modules/divisions/service.js';
import { tourSlugBase } from '../modules/tours/service.js';
import type { Database, Executor } from './client.js';
import { landscapePng, PALETTES } from './demo-images.js';
import { departures, divisions, tours, tourTypes } from './schema/index.js';
import { pastTripSeats, seedDemoAccounts } from './seed-demo-accounts.js';
import { CHECK_IN_TRIP_TOUR, seedDemoTravellerTrips, UNREVIEWED_TRIP_TOUR } from './seed-demo-trips.js';

/**
 * The demo catalogue `npm start` loads into an empty database: Bangladesh's eight divisions, six
 * tour types and 24 tours with future dates, BDT prices, seat limits and a generated picture each; three
 * trips that already ran, booked and reviewed by demo travellers; a demo guide; and two trips of the demo
 * traveller to try reviews and check-in with (seed-demo-trips.ts). Every date is relative to the clock the
 * data is loaded with, so the catalogue looks the same whenever it is loaded.
 */

const DIVISIONS: { name: string; description: string }[] = [
  {
    name: 'Dhaka',
    description:
      'The capital: Mughal forts and river ghats in Old Dhaka, the ancient capital of Sonargaon and the busy Buriganga.',
  },
  {
    name: 'Chattogram',
    description:
      "The port city and the south-east: Cox's Bazar's long beach, Saint Martin's Island and the hills of Bandarban.",
  },
  {
    name: 'Rajshahi',
    description:
      'Silk, mangoes and history on the Padma: the Paharpur Buddhist monastery and the terracotta temples of Puthia.',
  },
  {
    name: 'Khulna',
    description:
      'Gateway to the Sundarbans, the largest mangrove forest on earth, and the mosque city of Bagerhat.',
  },
  {
    name: 'Barishal',
    description:
      'A land of rivers and canals: floating markets, backwater villages and the beach of Kuakata.',
  },
  {
    name: 'Sylhet',
    description:
      'Tea gardens on rolling hills, the Ratargul swamp forest and the clear stony rivers of Jaflong and Bichanakandi.',
  },
  {
    name: 'Rangpur',
    description:
      'The north: Tajhat Palace, the terracotta Kantajew Temple and the wide sandbanks of the Teesta.',
  },
  {
    name: 'Mymensingh',
    description:
      'The old Brahmaputra, zamindar palaces and the Garo hills with the blue china-clay lakes of Birishiri.',
  },
];

const TOUR_TYPES = [
  'Adventure',
  'Beach & Island',
  'Heritage & Culture',
  'Wildlife & Nature',
  'River Cruise',
  'Hill Trekking',
] as const;
type TourTypeName = (typeof TOUR_TYPES)[number];

interface DemoTour {
  title: string;
  division: string;
  type: TourTypeName;
  location: string;
  departure: string;
  days: number;
  /** Days from today to the first day of the tour's first departure. */
  startsIn: number;
  cost: number;
  maxGuest: number;
  minAge: number;
  description: string;
  plan: string[];
}

const TOURS: DemoTour[] = [
  {
    title: 'Old Dhaka Heritage Walk',
    division: 'Dhaka',
    type: 'Heritage & Culture',
    location: 'Old Dhaka',
    departure: 'Shahbagh, Dhaka',
    days: 1,
    startsIn: 9,
    cost: 1500,
    maxGuest: 25,
    minAge: 8,
    description:
      'Lalbagh Fort, Ahsan Manzil, the Star Mosque and Shankhari Bazar on foot and by rickshaw, with Old Dhaka biryani for lunch.',
    plan: ['Morning: Lalbagh Fort and Armenian Church', 'Afternoon: Ahsan Manzil and Sadarghat by boat'],
  },
  {
    title: 'Sonargaon and Panam City Day Trip',
    division: 'Dhaka',
    type: 'Heritage & Culture',
    location: 'Sonargaon, Narayanganj',
    departure: 'Dhaka',
    days: 1,
    startsIn: 16,
    cost: 2450.5,
    maxGuest: 30,
    minAge: 5,
    description:
      'The medieval capital of Bengal: the abandoned merchant houses of Panam City and the Folk Art and Crafts Museum.',
    plan: ['Drive to Sonargaon', 'Panam City walk', 'Folk Art Museum and return'],
  },
  {
    title: 'Buriganga Sunset River Cruise',
    division: 'Dhaka',
    type: 'River Cruise',
    location: 'Buriganga River, Dhaka',
    departure: 'Sadarghat, Dhaka',
    days: 1,
    startsIn: 12,
    cost: 1800,
    maxGuest: 40,
    minAge: 0,
    description:
      'An evening on a wooden boat past the launches, boatyards and ghats of the Buriganga, with tea and snacks.',
    plan: ['Boarding at Sadarghat', 'Cruise to the boatyards of Keraniganj', 'Sunset and return'],
  },
  {
    title: "Cox's Bazar Beach Escape",
    division: 'Chattogram',
    type: 'Beach & Island',
    location: "Cox's Bazar",
    departure: 'Dhaka',
    days: 3,
    startsIn: 21,
    cost: 12500,
    maxGuest: 30,
    minAge: 0,
    description:
      "Three days on the world's longest natural sea beach: Inani's coral rocks, the Marine Drive and Himchari waterfall.",
    plan: [
      'Day 1: Arrival and Laboni beach',
      'Day 2: Marine Drive, Himchari and Inani',
      'Day 3: Burmese market and return',
    ],
  },
  {
    title: "Saint Martin's Island Getaway",
    division: 'Chattogram',
    type: 'Beach & Island',
    location: "Saint Martin's Island",
    departure: 'Teknaf',
    days: 3,
    startsIn: 35,
    cost: 15500,
    maxGuest: 20,
    minAge: 6,
    description:
      "Bangladesh's only coral island: clear water, coconut palms, fresh seafood and a day on Chhera Dwip.",
    plan: ['Day 1: Ship from Teknaf', 'Day 2: Chhera Dwip by boat', 'Day 3: Sunrise and return'],
  },
  {
    title: 'Bandarban Nilgiri Hill Trek',
    division: 'Chattogram',
    type: 'Hill Trekking',
    location: 'Bandarban',
    departure: 'Chattogram',
    days: 3,
    startsIn: 28,
    cost: 9800,
    maxGuest: 16,
    minAge: 12,
    description:
      'Cloud-topped Nilgiri, the Shoilo Propat falls and a night with a hill community above the Sangu river.',
    plan: [
      'Day 1: Nilachal and Meghla',
      'Day 2: Nilgiri and Shoilo Propat',
      'Day 3: Golden Temple and return',
    ],
  },
  {
    title: 'Paharpur Buddhist Vihara Tour',
    division: 'Rajshahi',
    type: 'Heritage & Culture',
    location: 'Paharpur, Naogaon',
    departure: 'Rajshahi',
    days: 2,
    startsIn: 40,
    cost: 6500,
    maxGuest: 25,
    minAge: 0,
    description:
      'The UNESCO-listed Somapura Mahavihara, once the largest Buddhist monastery south of the Himalayas.',
    plan: ['Day 1: Varendra Research Museum, Rajshahi', 'Day 2: Paharpur and the site museum'],
  },
  {
    title: 'Puthia Temple Complex and Silk Trail',
    division: 'Rajshahi',
    type: 'Heritage & Culture',
    location: 'Puthia, Rajshahi',
    departure: 'Rajshahi',
    days: 1,
    startsIn: 19,
    cost: 3200,
    maxGuest: 25,
    minAge: 0,
    description:
      'Terracotta temples around the Puthia palace lake, then the looms of Rajshahi silk at Sopura.',
    plan: ['Puthia Rajbari and Shiva Temple', 'Silk factory visit', 'Padma riverbank at dusk'],
  },
  {
    title: 'Padma River Char Safari',
    division: 'Rajshahi',
    type: 'River Cruise',
    location: 'Padma River, Rajshahi',
    departure: 'Rajshahi',
    days: 2,
    startsIn: 47,
    cost: 4800,
    maxGuest: 18,
    minAge: 8,
    description:
      'By country boat to the sandbank islands of the Padma: migratory birds, char villages and a riverside camp.',
    plan: ['Day 1: Boat to the chars and camp', 'Day 2: Birdwatching and return'],
  },
  {
    title: 'Sundarbans Mangrove Expedition',
    division: 'Khulna',
    type: 'Wildlife & Nature',
    location: 'Sundarbans',
    departure: 'Khulna',
    days: 3,
    startsIn: 33,
    cost: 18500,
    maxGuest: 24,
    minAge: 10,
    description:
      'Three days aboard a launch through the tidal creeks of the Sundarbans: Kotka, Kochikhali and the home of the Bengal tiger.',
    plan: ['Day 1: Sail to Harbaria', 'Day 2: Kotka beach and jungle trail', 'Day 3: Kochikhali and return'],
  },
  {
    title: 'Bagerhat Sixty Dome Mosque Tour',
    division: 'Khulna',
    type: 'Heritage & Culture',
    location: 'Bagerhat',
    departure: 'Khulna',
    days: 1,
    startsIn: 14,
    cost: 2800,
    maxGuest: 30,
    minAge: 0,
    description:
      "Khan Jahan Ali's 15th-century mosque city, a UNESCO World Heritage Site, and his tomb by the lake.",
    plan: ['Shat Gombuj Mosque', "Khan Jahan Ali's tomb", 'Singair and Nine Dome mosques'],
  },
  {
    title: 'Karamjal Wildlife Day Trip',
    division: 'Khulna',
    type: 'Wildlife & Nature',
    location: 'Karamjal, Mongla',
    departure: 'Mongla',
    days: 1,
    startsIn: 24,
    cost: 3500,
    maxGuest: 30,
    minAge: 5,
    description:
      'A short taste of the Sundarbans: spotted deer, monkeys and the crocodile breeding centre at Karamjal.',
    plan: ['Boat from Mongla', 'Karamjal boardwalk', 'Crocodile centre and return'],
  },
  {
    title: 'Kuakata Sunrise and Sunset Beach',
    division: 'Barishal',
    type: 'Beach & Island',
    location: 'Kuakata, Patuakhali',
    departure: 'Barishal',
    days: 3,
    startsIn: 42,
    cost: 9500,
    maxGuest: 28,
    minAge: 0,
    description:
      'The beach where sunrise and sunset both meet the sea, with the Rakhine villages and Fatrar Char forest.',
    plan: [
      'Day 1: Arrival and sunset',
      'Day 2: Sunrise, Fatrar Char and Lebur Char',
      'Day 3: Rakhine village and return',
    ],
  },
  {
    title: 'Floating Guava Market Boat Tour',
    division: 'Barishal',
    type: 'River Cruise',
    location: 'Bhimruli, Jhalakathi',
    departure: 'Barishal',
    days: 1,
    startsIn: 18,
    cost: 2200,
    maxGuest: 20,
    minAge: 0,
    description:
      'At dawn, boats full of guavas trade on the canals of Bhimruli; then orchards and a village lunch.',
    plan: ['Early boat to Bhimruli', 'Floating market and orchards', 'Village lunch and return'],
  },
  {
    title: 'Durga Sagar and Barishal Backwaters',
    division: 'Barishal',
    type: 'Wildlife & Nature',
    location: 'Barishal',
    departure: 'Dhaka (overnight launch)',
    days: 2,
    startsIn: 55,
    cost: 4200,
    maxGuest: 30,
    minAge: 0,
    description:
      'The overnight launch from Dhaka, the Durga Sagar lake and a slow day on the canals around Barishal.',
    plan: [
      'Night: launch from Sadarghat',
      'Day 1: Durga Sagar and Guthia Mosque',
      'Day 2: Backwater boat ride',
    ],
  },
  {
    title: 'Ratargul Swamp Forest Boat Ride',
    division: 'Sylhet',
    type: 'Wildlife & Nature',
    location: 'Ratargul, Sylhet',
    departure: 'Sylhet',
    days: 2,
    startsIn: 26,
    cost: 6800,
    maxGuest: 20,
    minAge: 5,
    description:
      'Glide between flooded trees in the freshwater swamp forest of Ratargul, then the Shah Jalal shrine.',
    plan: ['Day 1: Shah Jalal shrine and tea estate', 'Day 2: Ratargul by boat'],
  },
  {
    title: 'Srimangal Tea Garden Retreat',
    division: 'Sylhet',
    type: 'Wildlife & Nature',
    location: 'Srimangal, Moulvibazar',
    departure: 'Dhaka',
    days: 3,
    startsIn: 38,
    cost: 10500,
    maxGuest: 22,
    minAge: 0,
    description:
      'The tea capital: estate walks, seven-layer tea, Lawachara rainforest and its hoolock gibbons.',
    plan: [
      'Day 1: Train to Srimangal',
      'Day 2: Lawachara and tea estates',
      'Day 3: Madhabpur lake and return',
    ],
  },
  {
    title: 'Jaflong and Bichanakandi Adventure',
    division: 'Sylhet',
    type: 'Adventure',
    location: 'Jaflong, Sylhet',
    departure: 'Sylhet',
    days: 2,
    startsIn: 31,
    cost: 7200,
    maxGuest: 18,
    minAge: 10,
    description:
      'Stone rivers below the Meghalaya hills: Jaflong, the Lalakhal blue water and the pools of Bichanakandi.',
    plan: ['Day 1: Jaflong and Lalakhal', 'Day 2: Bichanakandi by boat'],
  },
  {
    title: 'Tajhat Palace and Rangpur Heritage',
    division: 'Rangpur',
    type: 'Heritage & Culture',
    location: 'Rangpur',
    departure: 'Rangpur',
    days: 1,
    startsIn: 22,
    cost: 2000,
    maxGuest: 30,
    minAge: 0,
    description:
      'The marble stair of Tajhat Palace, the Rangpur museum and the memorials of Begum Rokeya at Pairaband.',
    plan: ['Tajhat Palace', 'Carmichael College', 'Begum Rokeya memorial'],
  },
  {
    title: 'Kantajew Temple and Ramsagar Day Trip',
    division: 'Rangpur',
    type: 'Heritage & Culture',
    location: 'Dinajpur',
    departure: 'Rangpur',
    days: 2,
    startsIn: 44,
    cost: 4500,
    maxGuest: 25,
    minAge: 0,
    description:
      'The finest terracotta temple in Bengal at Kantanagar and the great Ramsagar tank near Dinajpur.',
    plan: ['Day 1: Kantajew Temple', 'Day 2: Ramsagar and Dinajpur Rajbari'],
  },
  {
    title: 'Teesta Barrage River Adventure',
    division: 'Rangpur',
    type: 'Adventure',
    location: 'Teesta Barrage, Lalmonirhat',
    departure: 'Rangpur',
    days: 2,
    startsIn: 60,
    cost: 5200,
    maxGuest: 16,
    minAge: 12,
    description:
      'Kayaking and sandbank camping on the Teesta, with the Himalayan foothills on a clear morning.',
    plan: ['Day 1: Barrage and kayaking', 'Day 2: Char camp and return'],
  },
  {
    title: 'Birishiri Blue Lake and Garo Hills',
    division: 'Mymensingh',
    type: 'Hill Trekking',
    location: 'Birishiri, Netrokona',
    departure: 'Mymensingh',
    days: 2,
    startsIn: 29,
    cost: 5800,
    maxGuest: 20,
    minAge: 8,
    description:
      'Blue-green china-clay lakes, the Someshwari river and Garo villages at the foot of the hills.',
    plan: ['Day 1: Someshwari and Garo village', 'Day 2: China-clay hills and lake'],
  },
  {
    title: 'Muktagachha Zamindar Palace Tour',
    division: 'Mymensingh',
    type: 'Heritage & Culture',
    location: 'Muktagachha, Mymensingh',
    departure: 'Mymensingh',
    days: 1,
    startsIn: 11,
    cost: 1950.5,
    maxGuest: 30,
    minAge: 0,
    description:
      'The zamindar palace of Muktagachha, its famous monda sweets and Shashi Lodge on the Brahmaputra.',
    plan: ['Shashi Lodge', 'Muktagachha Rajbari', 'Gopal Pal monda shop'],
  },
  {
    title: 'Brahmaputra Riverside Cycling',
    division: 'Mymensingh',
    type: 'Adventure',
    location: 'Mymensingh',
    departure: 'Mymensingh',
    days: 1,
    startsIn: 50,
    cost: 1750,
    maxGuest: 15,
    minAge: 14,
    description:
      'A 35 km ride along the old Brahmaputra past char villages, with the Zainul Abedin museum at the end.',
    plan: ['Ride out along the embankment', 'Village lunch', 'Zainul Abedin Sangrahashala'],
  },
];

/**
 * Trips that already ran, each booked and reviewed by the demo travellers (seed-demo-accounts.ts), so the
 * catalogue's front page shows ratings from the first start.
 */
const PAST_TRIPS: DemoTour[] = [
  {
    title: 'Sajek Valley Cloud Trek',
    division: 'Chattogram',
    type: 'Hill Trekking',
    location: 'Sajek, Rangamati',
    departure: 'Khagrachhari',
    days: 3,
    startsIn: -45,
    cost: 8500,
    maxGuest: 16,
    minAge: 12,
    description:
      'Jeep ride into the Chittagong Hill Tracts, nights in a Lushai village and a walk up to Konglak Para above the clouds.',
    plan: [
      'Day 1: Khagrachhari to Ruilui Para',
      'Day 2: Konglak Para at sunrise',
      'Day 3: Alutila cave, back',
    ],
  },
  {
    title: 'Lalbagh Fort and Armenian Church Walk',
    division: 'Dhaka',
    type: 'Heritage & Culture',
    location: 'Old Dhaka',
    departure: 'Azimpur, Dhaka',
    days: 1,
    startsIn: -30,
    cost: 1200,
    maxGuest: 25,
    minAge: 6,
    description:
      'An afternoon walk from the unfinished Mughal fort to the 18th-century Armenian Church of the Holy Resurrection.',
    plan: [
      'Lalbagh Fort and the tomb of Pari Bibi',
      'Armanitola and the Armenian Church',
      'Tea at Chawkbazar',
    ],
  },
  {
    title: 'Sundarbans Winter Boat Safari',
    division: 'Khulna',
    type: 'Wildlife & Nature',
    location: 'Sundarbans',
    departure: 'Mongla',
    days: 3,
    startsIn: -20,
    cost: 14500,
    maxGuest: 20,
    minAge: 10,
    description:
      'Three days on a launch in the dry season: Kotka and Kochikhali beaches, canal rides by country boat.',
    plan: [
      'Day 1: Mongla to Harbaria',
      'Day 2: Kotka watchtower and beach',
      'Day 3: Karamjal, back to Mongla',
    ],
  },
];

const INCLUDED = ['Transport from the departure point', 'Local guide', 'Meals as listed in the plan'];
const EXCLUDED = ['Personal expenses', 'Travel insurance', 'Tips'];
const AMENITIES_BY_TYPE: Record<TourTypeName, string[]> = {
  Adventure: ['Safety gear', 'First aid kit', 'Bottled water'],
  'Beach & Island': ['Sea-view hotel', 'Beach towels', 'Bottled water'],
  'Heritage & Culture': ['Air-conditioned transport', 'Entry tickets', 'Bottled water'],
  'Wildlife & Nature': ['Forest permits', 'Binoculars', 'First aid kit'],
  'River Cruise': ['Life jackets', 'Tea and snacks on board'],
  'Hill Trekking': ['Trekking poles', 'Local porter', 'First aid kit'],
};
const DAY_MS = 24 * 60 * 60 * 1000;
// Any constant works: it only serialises concurrent seeders of one database.
const SEED_LOCK_KEY = 70_411_029;

/**
 * Inserts the demo catalogue, with the demo accounts and their past trips' bookings and reviews, when the
 * catalogue is empty; returns the number of tours inserted. Dates are placed around `clock.now()` (pass the
 * app's clock). The demo accounts sign in with `demoPassword`; without one they have no password.
 */
export async function seedDemoCatalogue(
  db: Database,
  storage: Storage,
  clock: Clock,
  demoPassword?: string,
): Promise<number> {
  if (!(await catalogueIsEmpty(db))) return 0;
  const now = clock.now();
  const demoPasswordHash = demoPassword ? await hashPassword(demoPassword) : null;

  const images = new Map<string, string>();
  const storeImage = async (name: string, seed: number) => {
    const key = `images/demo-${name}.png`;
    await storage.put(key, landscapePng(seed, PALETTES[seed % PALETTES.length]!), 'image/png');
    images.set(name, storage.publicUrl(key));
  };
  for (const [i, d] of DIVISIONS.entries()) await storeImage(divisionSlugBase(d.name), i * 3 + 1);
  for (const [i, t] of [...TOURS, ...PAST_TRIPS].entries())
    await storeImage(tourSlugBase(t.title), i * 5 + 2);

  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return db.transaction(async (tx) => {
    // Two instances starting together: the second waits here, then finds the catalogue filled.
    await tx.execute(sql`select pg_advisory_xact_lock(${SEED_LOCK_KEY})`);
    if (!(await catalogueIsEmpty(tx))) return 0;

    const divisionRows = await tx
      .insert(divisions)
      .values(
        DIVISIONS.map((d) => ({
          name: d.name,
          slug: divisionSlugBase(d.name),
          description: d.description,
          thumbnail: images.get(divisionSlugBase(d.name)) ?? null,
        })),
      )
      .returning({ id: divisions.id, name: divisions.name });
    const typeRows = await tx
      .insert(tourTypes)
      .values(TOUR_TYPES.map((name) => ({ name })))
      .returning({ id: tourTypes.id, name: tourTypes.name });
    const divisionId = new Map(divisionRows.map((r) => [r.name, r.id]));
    const typeId = new Map(typeRows.map((r) => [r.name, r.id]));

    const inserted = await tx
      .insert(tours)
      .values(
        // The past trips last: the newest, so the catalogue's front page shows them and their ratings.
        [...TOURS, ...PAST_TRIPS].map((t) => ({
          title: t.title,
          slug: tourSlugBase(t.title),
          description: t.description,
          location: t.location,
          departureLocation: t.departure,
          arrivalLocation: t.location,
          images: [images.get(tourSlugBase(t.title))!],
          costFromMinor: toMinor(t.cost),
          included: INCLUDED,
          excluded: EXCLUDED,
          amenities: AMENITIES_BY_TYPE[t.type],
          tourPlan: t.plan,
          maxGuest: t.maxGuest,
          minAge: t.minAge,
          divisionId: divisionId.get(t.division)!,
          tourTypeId: typeId.get(t.type)!,
        })),
      )
      .returning({
        id: tours.id,
        title: tours.title,
        costFromMinor: tours.costFromMinor,
        currency: tours.currency,
      });
    await tx
      .insert(departures)
      .values(
        TOURS.flatMap((t, i) => demoDepartures(t, i, today).map((d) => ({ ...d, tourId: inserted[i]!.id }))),
      );
    // Each past trip ran once; its seats are those its demo travellers took.
    const pastDepartures = await tx
      .insert(departures)
      .values(
        PAST_TRIPS.map((t, i) => {
          const start = new Date(today + t.startsIn * DAY_MS + 3 * 60 * 60 * 1000);
          return {
            tourId: inserted[TOURS.length + i]!.id,
            startDate: start,
            endDate: new Date(start.getTime() + (t.days - 1) * DAY_MS + 9 * 60 * 60 * 1000),
            capacity: t.maxGuest,
            seatsBooked: pastTripSeats(t.title),
          };
        }),
      )
      .returning({
        id: departures.id,
        tourId: departures.tourId,
        startDate: departures.startDate,
        endDate: departures.endDate,
      });
    await seedDemoAccounts(
      tx,
      pastDepartures.map((d) => {
        const tour = inserted.find((t) => t.id === d.tourId)!;
        return { ...tour, departureId: d.id, startDate: d.startDate, endDate: d.endDate };
      }),
      demoPasswordHash,
    );
    const tripTour = (title: string) => {
      const i = TOURS.findIndex((t) => t.title === title);
      return { ...inserted[i]!, days: TOURS[i]!.days, maxGuest: TOURS[i]!.maxGuest };
    };
    await seedDemoTravellerTrips(
      tx,
      { unreviewed: tripTour(UNREVIEWED_TRIP_TOUR), checkIn: tripTour(CHECK_IN_TRIP_TOUR) },
      now,
    );
    return inserted.length;
  });
}

/** Runs of a demo tour scheduled this far apart, in days. */
const DEPARTURE_INTERVAL_DAYS = 30;

/**
 * Three to five monthly departures of a demo tour, the first on its `startsIn` day. Every fourth tour's second
 * departure is nearly full (its seats counted as sold elsewhere), so sold-out handling has something to show.
 */
function demoDepartures(t: DemoTour, index: number, today: number) {
  const count = 3 + (index % 3);
  return Array.from({ length: count }, (_, k) => {
    const start = new Date(today + (t.startsIn + k * DEPARTURE_INTERVAL_DAYS) * DAY_MS + 3 * 60 * 60 * 1000);
    return {
      startDate: start,
      endDate: new Date(start.getTime() + (t.days - 1) * DAY_MS + 9 * 60 * 60 * 1000),
      capacity: t.maxGuest,
      seatsBooked: index % 4 === 0 && k === 1 ? t.maxGuest - 2 : 0,
    };
  });
}

async function catalogueIsEmpty(ex: Executor): Promise<boolean> {
  const [division] = await ex.select({ id: divisions.id }).from(divisions).limit(1);
  const [type] = await ex.select({ id: tourTypes.id }).from(tourTypes).limit(1);
  const [tour] = await ex.select({ id: tours.id }).from(tours).limit(1);
  return !division && !type && !tour;
}
