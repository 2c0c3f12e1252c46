/**
 * Examples for the API description: realistic values by property name where a schema has none of its own, and
 * no ±9007199254740991 bounds (what Zod writes for "any safe integer").
 */

type Json = Record<string, unknown>;

const ID = '01936f3e-8a4b-7c2d-9e1f-2a3b4c5d6e7f';
const TIME = '2026-12-02T10:41:07.311Z';
const BASE = 'http://localhost:5000';

/** Examples by property name, for schemas that carry none of their own. First match wins. */
const EXAMPLES_BY_NAME: [RegExp, (schema: Json) => unknown][] = [
  [/^(_id|id)$|Id$|^(tour|division|tourType|user|booking|payment|session|actor)$/, () => ID],
  [/^(transactionId|tran_id)$/, () => 'tran_5f2c9a7e1b3d4c6a8e0f1a2b3c4d5e6f'],
  [/At$/, () => TIME],
  [/Date$|^(from|to)$/, () => '2027-01-15T03:00:00.000Z'],
  [/^email$/, () => 'traveller@example.com'],
  [/^phone$/, () => '+8801712345678'],
  [/^(password|newPassword|oldPassword)$/, () => 'Sundarban-Trip-2026'],
  [/^(otp|code)$/, (s) => (s.type === 'string' ? '482913' : undefined)],
  [/Token$|^token$/, () => 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VySWQiOiIwMTkzNmYzZSJ9.c2lnbmF0dXJl'],
  [/^name$/, () => 'Nusrat Jahan'],
  [/^title$/, () => 'Sundarbans Mangrove Safari'],
  [/^slug$/, () => 'sundarbans-mangrove-safari'],
  [/^description$/, () => 'Three days by boat through the mangrove forest, with a forest guide.'],
  [/^address$/, () => 'House 12, Road 5, Dhanmondi, Dhaka'],
  [/[lL]ocation$/, () => 'Khulna'],
  [/^currency$/, () => 'BDT'],
  [/^(amount|costFrom|unitPrice|price|refundIfCancelledNow)$|Amount$|Revenue$|Cost/, () => 1500.5],
  [/^average$/, () => 4.3],
  [/^rating$/, (s) => (s.type === 'integer' || s.type === 'number' ? 5 : undefined)],
  [/^hoursBefore$/, () => 168],
  [/^refundPercent$/, () => 100],
  [/^reason$/, () => 'Cancelled by the traveller: a family emergency'],
  [/^failureReason$/, () => 'Card account closed'],
  [/^gatewayRefundId$/, () => 'RF3A9C21D07B44'],
  [/^paymentUrl$/, () => `${BASE}/api/v1/payment/local-gateway/tran_5f2c9a7e1b3d4c6a8e0f1a2b3c4d5e6f`],
  [
    /^invoiceUrl$/,
    () => `${BASE}/api/v1/payment/invoice/${ID}/download?expires=1764672067&signature=q9Xw3vR1`,
  ],
  [/^(picture|thumbnail|images)$/, () => `${BASE}/uploads/images/sundarbans-mangrove-safari.webp`],
  [/^docs$/, () => `${BASE}/docs`],
  [/^openapi$/, () => `${BASE}/openapi.json`],
  [/^health$/, () => `${BASE}/health`],
  [/^(guestCount|count|guests)$|Count$|Guests$/, () => 2],
  [/^avg.*Guest/, () => 2.5],
  [/^revenue$|^avg/, () => 1500.5],
  [/^(occupancy|rate)$/, () => 0.75],
  [/^uptimeSeconds$/, () => 3600],
  [
    /^total|^new|Last\w*Days$|LastThirty$|^seats|^(availableSeats|capacity|paidBookings|createdBookings|payments)$/,
    () => 12,
  ],
  [/^(sessionsEnded|days|upcomingLimit)$/, () => 7],
  [/^(amenities|included|excluded)$/, () => 'Boat ride with meals'],
  [/^tourPlan$/, () => 'Day 1: Khulna to Karamjal by boat'],
  [/^redirect$/, () => '/booking?tour=sundarbans-mangrove-safari'],
  [/^idempotency-key$/, () => '5b1f0c1e-6a8d-4f4e-9a51-3c2e7d9b8a10'],
  [/^val_id$/, () => 'local.eyJ0IjoidHJhbl81ZjJjIn0.q9Xw3vR1'],
  [/^signature$/, () => 'q9Xw3vR1kZ2pL8sT4mN6bV0cX7yH5jD3'],
  [/^expires$/, () => 1764672067],
  [/^provider$/, () => 'credentials'],
  [/^role$/, () => 'USER'],
  [/^status$/, () => 'PENDING'],
  [/^isActive$/, () => 'ACTIVE'],
  [/^(isDeleted|isVerified)$/, () => 'false'],
  [/^type$/, () => 'sign_in'],
  [/^database$/, () => 'postgres'],
  [/^date$/, () => '2026-12-02'],
  [/^(maxGuest|minAge)$/, (s) => (s.type === 'integer' || s.type === 'number' ? 12 : undefined)],
  [/^searchTerm$/, () => 'sundarbans'],
  [/^sort$/, () => '-createdAt'],
  [/^fields$/, () => 'title,slug,costFrom'],
  [/^(page)$/, () => 1],
  [/^(limit)$/, () => 10],
  [/^(ip)$/, () => '203.0.113.7'],
  [/^userAgent$/, () => 'Mozilla/5.0 (Linux; Android 14) Chrome/131.0 Mobile Safari/537.36'],
  [/^device$/, () => 'Chrome on Android'],
  [/^version$/, () => '1.0.0'],
];

const SAFE_INTEGER = Number.MAX_SAFE_INTEGER;

/** Whether a schema describes one plain value (where an example by name makes sense). */
const isScalar = (s: Json) =>
  ['string', 'number', 'integer'].includes(String(s.type)) && s.enum === undefined && s.const === undefined;

/** Walks a schema: drops safe-integer bounds, and gives named scalar properties an example when they lack one. */
export function completeSchema(schema: unknown, name?: string): void {
  if (!schema || typeof schema !== 'object') return;
  if (Array.isArray(schema)) {
    for (const item of schema) completeSchema(item, name);
    return;
  }
  const s = schema as Json;
  if (s.minimum === -SAFE_INTEGER) delete s.minimum;
  if (s.maximum === SAFE_INTEGER) delete s.maximum;
  if (name && s.example === undefined && isScalar(s)) {
    const rule = EXAMPLES_BY_NAME.find(([pattern]) => pattern.test(name));
    const example = rule?.[1](s);
    if (example !== undefined) s.example = s.type === 'string' ? String(example) : example;
    else if (s.format === 'date-time') s.example = TIME;
  }
  if (s.properties && typeof s.properties === 'object') {
    for (const [key, child] of Object.entries(s.properties as Json)) completeSchema(child, key);
  }
  if (s.items) completeSchema(s.items, name);
  for (const key of ['allOf', 'anyOf', 'oneOf', 'additionalProperties', 'not']) completeSchema(s[key]);
}

/** The top-level `statusCode` of an answer shows that answer's status. */
export function exampleStatusCode(schema: unknown, status: string) {
  const property = (schema as { properties?: { statusCode?: Json } } | undefined)?.properties?.statusCode;
  if (property && /^\d{3}$/.test(status)) property.example = Number(status);
}
