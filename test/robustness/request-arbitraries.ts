import fc from 'fast-check';

/**
 * fast-check generators for hostile HTTP requests: strings, values shaped (or misshaped) like a JSON
 * schema, query strings with duplicates and pollution keys, bodies in the wrong content type.
 */

export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  nullable?: boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

const LONG = 'a'.repeat(20_000);
const NASTY_CONSTANTS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  'null',
  'undefined',
  'true',
  '0',
  '-1',
  '1e309',
  'NaN',
  'Infinity',
  '__proto__',
  'constructor',
  'prototype',
  "' OR '1'='1",
  '"; DROP TABLE users; --',
  '1); select pg_sleep(10); --',
  '%00',
  '%',
  '%zz',
  '../../../etc/passwd',
  '..\\..\\windows',
  '\u202e\u202d',
  '\ud800',
  '😀'.repeat(60),
  'ঢাকা সিলেট',
  '<script>alert(1)</script>',
  '#{7*7}{{7*7}}<%= 7*7 %>',
  '\r\nSet-Cookie: x=1',
  '0000-00-00',
  '2026-02-30',
  '9999-12-31T23:59:59Z',
  '-000001-01-01',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '01234567-89ab-7def-8123-456789abcdef',
  'not-a-uuid',
  LONG,
];

/** Strings a careless handler chokes on; `known` are real values (ids, slugs) to mix in. */
export function nastyString(known: string[] = []): fc.Arbitrary<string> {
  const arbs: fc.Arbitrary<string>[] = [
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.constantFrom(...NASTY_CONSTANTS),
    fc.uuid(),
    fc.integer().map(String),
    fc.string({ maxLength: 5 }).map((s) => s.repeat(500)),
  ];
  if (known.length > 0) arbs.push(fc.constantFrom(...known));
  return fc.oneof(...arbs);
}

/** Any JSON value, including deep nesting and pollution keys. */
export function anyJson(known: string[] = []): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    { weight: 1, arbitrary: fc.constantFrom(null, true, false, 0, -0, 1.5, -1, 1e308, 2 ** 53 + 1, []) },
    { weight: 2, arbitrary: nastyString(known) },
    { weight: 1, arbitrary: fc.integer({ min: 50, max: 3000 }).map(deepNesting) },
    { weight: 1, arbitrary: fc.constant({ __proto__: { isAdmin: true } }) },
  );
}

function deepNesting(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
}

function schemaType(schema: JsonSchema): string | undefined {
  if (Array.isArray(schema.type)) return schema.type.find((t) => t !== 'null');
  return schema.type;
}

/** Values that mostly fit `schema` (so requests reach the service) and sometimes do not. */
export function valueFor(
  schema: JsonSchema | undefined,
  known: string[],
  depth = 0,
  key = '',
): fc.Arbitrary<unknown> {
  if (!schema) return anyJson(known);
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants && variants.length > 0) {
    return fc.oneof(...variants.map((v) => valueFor(v, known, depth, key)), anyJson(known));
  }
  const fitting = fittingValue(schema, known, depth, key);
  return fc.oneof({ weight: 3, arbitrary: fitting }, { weight: 1, arbitrary: anyJson(known) });
}

function fittingValue(
  schema: JsonSchema,
  known: string[],
  depth: number,
  key: string,
): fc.Arbitrary<unknown> {
  if (schema.enum && schema.enum.length > 0) {
    return fc.oneof(fc.constantFrom(...schema.enum), nastyString());
  }
  switch (schemaType(schema)) {
    case 'string':
      if (schema.format === 'uuid') return fc.oneof(fc.constantFrom(...known), fc.uuid(), nastyString());
      if (schema.pattern?.startsWith('^\\d{4}')) {
        return fc.oneof(
          fc
            .date({ min: new Date('1900-01-01'), max: new Date('2200-01-01'), noInvalidDate: true })
            .map((d) => d.toISOString()),
          fc.constantFrom('2026-02-29', '2027-13-01', '2027-01-32', '0001-01-01', '9999-12-31T24:00:00Z'),
          nastyString(),
        );
      }
      return fc.oneof(
        { weight: 3, arbitrary: plausibleString(schema, key) },
        { weight: 2, arbitrary: known.length > 0 ? fc.constantFrom(...known) : fc.uuid() },
        { weight: 2, arbitrary: nastyString(known) },
      );
    case 'integer':
      return fc.oneof(
        fc.integer({ min: schema.minimum ?? -5, max: schema.maximum ?? 150 }),
        fc.integer({ min: -5, max: 150 }),
        fc.constantFrom(0, -1, 2 ** 31, 2 ** 53 - 1, -(2 ** 53)),
      );
    case 'number':
      return fc.oneof(
        fc.integer({ min: schema.minimum ?? -10, max: Math.min(schema.maximum ?? 100_000, 100_000) }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.constantFrom(0.1 + 0.2, 1e21, 5e-324, 100_000_000.01, -0),
      );
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(valueFor(schema.items, known, depth + 1), { maxLength: depth > 2 ? 1 : 5 });
    case 'object':
      return objectFor(schema, known, depth);
    default:
      return anyJson(known);
  }
}

/** Values the schema accepts; `hints` are real values for fields by name (e.g. `tour` → a tour id). */
export function validValue(
  schema: JsonSchema | undefined,
  hints: Record<string, string[]>,
  key = '',
  depth = 0,
): fc.Arbitrary<unknown> {
  if (!schema) return fc.constant(null);
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants && variants.length > 0) return validValue(variants[0], hints, key, depth);
  if (schema.enum && schema.enum.length > 0) return fc.constantFrom(...schema.enum);
  const hinted = hints[key];
  switch (schemaType(schema)) {
    case 'string':
      if (hinted && hinted.length > 0) return fc.constantFrom(...hinted);
      if (schema.pattern?.startsWith('^\\d{4}')) {
        return fc
          .date({ min: new Date('2027-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
          .map((d) => d.toISOString().slice(0, 10));
      }
      return plausibleString(schema, key);
    case 'integer':
    case 'number':
      return fc.integer({ min: schema.minimum ?? 1, max: Math.min(schema.maximum ?? 100, 1_000_000) });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(validValue(schema.items, hints, key, depth + 1), { maxLength: 3 });
    case 'object': {
      const shape: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, sub] of Object.entries(schema.properties ?? {})) {
        shape[k] = validValue(sub, hints, k, depth + 1);
      }
      return fc.record(shape, { requiredKeys: schema.required ?? [] });
    }
    default:
      return fc.constant(null);
  }
}

/** A string the schema accepts: its pattern, an email for email fields, or text of an allowed length. */
function plausibleString(schema: JsonSchema, key: string): fc.Arbitrary<string> {
  if (/email/i.test(key)) {
    return fc.oneof(
      {
        weight: 3,
        arbitrary: fc.stringMatching(/^[a-z0-9]{1,12}(\.[a-z0-9]{1,5})?@[a-z0-9]{1,10}\.[a-z]{2,4}$/),
      },
      { weight: 1, arbitrary: fc.emailAddress() },
    );
  }
  if (schema.pattern) {
    try {
      return fc.stringMatching(new RegExp(schema.pattern));
    } catch {
      // A pattern fast-check cannot generate from: fall through to plain text.
    }
  }
  const minLength = schema.minLength ?? 0;
  return fc.string({ minLength, maxLength: Math.max(minLength, Math.min(schema.maxLength ?? 40, 40)) });
}

/** Names every plain object inherits: a lookup in a plain-object allowlist finds them unless it checks own keys. */
export const PROTOTYPE_NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'toLocaleString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  '__defineGetter__',
  '__lookupSetter__',
];

const POLLUTION_KEYS = [...PROTOTYPE_NAMES, '$where', '$ne', 'role', 'isAdmin', '_id'];

/** A prototype name as a list parameter's value: alone, descending, or in a comma list with a real field. */
const prototypeNameValue = fc
  .tuple(
    fc.constantFrom(...PROTOTYPE_NAMES),
    fc.constantFrom('', '-', '+'),
    fc.constantFrom('', ',createdAt', ',_id'),
  )
  .map(([name, sign, rest]) => `${sign}${name}${rest}`);

/** An object with the schema's keys (each maybe absent) plus sometimes pollution or unknown keys. */
export function objectFor(
  schema: JsonSchema,
  known: string[],
  depth = 0,
): fc.Arbitrary<Record<string, unknown>> {
  const props = schema.properties ?? {};
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, sub] of Object.entries(props)) shape[key] = valueFor(sub, known, depth + 1, key);
  return fc
    .tuple(
      // Usually every required key is there, so requests get past the schema into the service.
      fc.oneof(
        { weight: 3, arbitrary: fc.record(shape, { requiredKeys: schema.required ?? [] }) },
        { weight: 1, arbitrary: fc.record(shape, { requiredKeys: [] }) },
      ),
      fc.dictionary(fc.oneof(fc.constantFrom(...POLLUTION_KEYS), fc.string({ maxLength: 10 })), anyJson(), {
        maxKeys: 3,
      }),
      fc.boolean(),
    )
    .map(([base, extra, withExtra]) => {
      if (!withExtra) return base as Record<string, unknown>;
      const merged: Record<string, unknown> = { ...(base as Record<string, unknown>) };
      // defineProperty, so a `__proto__` key is an own key that JSON.stringify sends as text.
      for (const [k, v] of Object.entries(extra)) {
        Object.defineProperty(merged, k, { value: v, enumerable: true, configurable: true, writable: true });
      }
      return merged;
    });
}

export interface RawBody {
  payload?: string | Buffer;
  contentType?: string;
}

const flatten = (value: unknown): URLSearchParams => {
  const params = new URLSearchParams();
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) {
      params.append(k, typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));
    }
  } else {
    params.append('value', String(value));
  }
  return params;
};

function multipartOf(
  parts: { name: string; value: string | Buffer; filename?: string; type?: string }[],
): RawBody {
  const boundary = '----fuzz0boundary7MA4YWxkTrZu0gW';
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = p.filename
      ? `form-data; name="${p.name}"; filename="${p.filename}"`
      : `form-data; name="${p.name}"`;
    const type = p.type ? `\r\nContent-Type: ${p.type}` : '';
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}${type}\r\n\r\n`));
    chunks.push(Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** A request body in one of many encodings, most of them wrong for the route. */
export function rawBody(
  schema: JsonSchema | undefined,
  known: string[],
  hints: Record<string, string[]> = {},
): fc.Arbitrary<RawBody> {
  const value = schema ? valueFor(schema, known) : anyJson(known);
  const valid = schema ? validValue(schema, hints) : anyJson(known);
  const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));
  return fc.oneof(
    {
      weight: 5,
      arbitrary: valid.map((v) => ({
        payload: JSON.stringify(v) ?? 'null',
        contentType: 'application/json',
      })),
    },
    {
      weight: 5,
      arbitrary: value.map((v) => ({
        payload: JSON.stringify(v) ?? 'null',
        contentType: 'application/json',
      })),
    },
    { weight: 1, arbitrary: fc.constant<RawBody>({}) },
    { weight: 1, arbitrary: fc.constant<RawBody>({ payload: '', contentType: 'application/json' }) },
    {
      weight: 1,
      arbitrary: value.chain((v) => {
        const text = JSON.stringify(v) ?? 'null';
        return fc.nat({ max: Math.max(0, text.length - 1) }).map((n) => ({
          payload: text.slice(0, n),
          contentType: 'application/json',
        }));
      }),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom<RawBody>(
        {
          payload: '{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"role":"SUPER_ADMIN"}}}',
          contentType: 'application/json',
        },
        { payload: '{"a":1,"a":2,"__proto__":null}', contentType: 'application/json' },
        { payload: `${'['.repeat(20_000)}${']'.repeat(20_000)}`, contentType: 'application/json' },
        { payload: `{"s":"${'\\u0000'.repeat(500)}"}`, contentType: 'application/json' },
        { payload: '\ufeff{}', contentType: 'application/json' },
        {
          payload: Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]),
          contentType: 'application/json; charset=utf-16',
        },
        { payload: '<xml/>', contentType: 'application/xml' },
        { payload: '{}', contentType: 'application/json; charset=latin-1' },
        { payload: 'garbage', contentType: 'multipart/form-data' },
        { payload: '--x\r\n\r\n', contentType: 'multipart/form-data; boundary=x' },
        { payload: '{}', contentType: 'text/plain' },
        { payload: '{}', contentType: ';;;' },
        { payload: '{}', contentType: 'application/json, text/html' },
      ),
    },
    {
      weight: 1,
      arbitrary: value.map((v) => ({
        payload: flatten(v).toString(),
        contentType: 'application/x-www-form-urlencoded',
      })),
    },
    { weight: 1, arbitrary: nastyString(known).map((s) => ({ payload: s, contentType: 'text/plain' })) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          value,
          bytes,
          fc.constantFrom('data', 'file', 'files', '__proto__'),
          fc.constantFrom('image/png', 'image/jpeg', 'text/plain', 'application/x-sh'),
        )
        .map(([v, file, fileField, type]) =>
          multipartOf([
            { name: 'data', value: JSON.stringify(v) ?? 'null' },
            { name: fileField, value: file, filename: '../../x.png', type },
          ]),
        ),
    },
    {
      weight: 1,
      arbitrary: bytes.map((b) => ({
        payload: b,
        contentType: 'multipart/form-data; boundary=----fuzz0boundary7MA4YWxkTrZu0gW',
      })),
    },
  );
}

/** A query string with the route's parameters (right or wrong), duplicates, pollution keys and bad escapes. */
export function queryString(paramSchemas: Record<string, JsonSchema>, known: string[]): fc.Arbitrary<string> {
  const names = Object.keys(paramSchemas);
  const keyArb = fc.oneof(
    ...(names.length > 0 ? [{ weight: 4, arbitrary: fc.constantFrom(...names) }] : []),
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        ...POLLUTION_KEYS,
        'page',
        'limit',
        'sort',
        'fields',
        'a[b]',
        'x[__proto__][y]',
      ),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  );
  const pair = keyArb.chain((key) =>
    fc
      .oneof(
        {
          weight: 2,
          arbitrary: valueFor(paramSchemas[key], known).map((v) =>
            typeof v === 'string' ? v : (JSON.stringify(v) ?? ''),
          ),
        },
        // Every parameter of every list (sort, fields, filters) also gets names the prototype holds.
        { weight: 1, arbitrary: prototypeNameValue },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            '-createdAt,title',
            '-password',
            'password,email',
            'passwordHash',
            '0',
            '-1',
            '1e9',
            '999999999999',
          ),
        },
      )
      .map((value) => `${encodeSegment(key)}=${encodeSegment(value)}`),
  );
  const raw = fc.constantFrom(
    '%',
    '%zz',
    '&&',
    '=',
    '==x',
    'a=%E0%A4%A',
    'page',
    'limit=&limit=',
    '__proto__[x]=1',
  );
  return fc
    .array(fc.oneof({ weight: 5, arbitrary: pair }, { weight: 1, arbitrary: raw }), { maxLength: 6 })
    .chain((pairs) =>
      // Duplicated parameters: repeat some pairs verbatim.
      fc.subarray(pairs).map((dupes) => [...pairs, ...dupes].join('&')),
    );
}

/** A path segment: a real value, a random id, or hostile text, usually percent-encoded. */
export function pathSegment(real: string[], known: string[]): fc.Arbitrary<string> {
  const value = fc.oneof(
    { weight: 3, arbitrary: real.length > 0 ? fc.constantFrom(...real) : fc.uuid() },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 3, arbitrary: nastyString(known) },
  );
  return fc.oneof(
    { weight: 6, arbitrary: value.map(encodeSegment) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '%',
        '%zz',
        '%E0%A4%A',
        '%2e%2e',
        '..',
        '.',
        '%00',
        '%2F..%2F..%2Fdev-secrets.json',
      ),
    },
  );
}

/** encodeURIComponent that survives lone surrogates (encoded as the bytes a sloppy client would send). */
export function encodeSegment(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return encodeURIComponent(value.replace(/[\ud800-\udfff]/g, '')) + '%ED%A0%80';
  }
}

/** Printable ASCII, so the values are legal in a header. */
export const headerText = (maxLength = 60) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });
