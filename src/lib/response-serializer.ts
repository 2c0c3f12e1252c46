import fastJson from 'fast-json-stringify';
import { z } from 'zod';

/**
 * A route's serializer compiled from its Zod response schema (fast-json-stringify over the schema's JSON
 * Schema), for hot reads whose data the service builds field by field. The default Zod serializer checks
 * and copies every response before JSON.stringify, which costs in proportion to the response; this writes
 * the schema's keys in its order and drops unknown ones the same way, without the check. A schema JSON
 * Schema cannot express (a transform) fails when the route is compiled, not on a request.
 */
export function compiledSerializer({ schema }: { schema: unknown }): (data: unknown) => string {
  if (!(schema instanceof z.ZodType)) throw new Error('compiledSerializer takes Zod response schemas only');
  const { $schema: _dialect, ...jsonSchema } = z.toJSONSchema(schema, { io: 'output' });
  return fastJson(jsonSchema as Parameters<typeof fastJson>[0]);
}
