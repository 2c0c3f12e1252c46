import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { BSON, EJSON } from 'bson';

/** How `mongodump` (BSON, optionally gzipped) or `mongoexport` (Extended JSON lines or an array) wrote a collection. */
export type DumpFormat = 'bson' | 'bson.gz' | 'jsonl' | 'json-array';

export type LegacyDoc = Record<string, unknown>;

async function write(stream: Writable, chunk: string | Uint8Array): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

/** Writes one collection file, streaming (a generator of millions of documents is never held whole). */
export async function writeCollection(
  dir: string,
  collection: string,
  docs: Iterable<LegacyDoc>,
  format: DumpFormat,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const extension = { bson: 'bson', 'bson.gz': 'bson.gz', jsonl: 'json', 'json-array': 'json' }[format];
  const file = path.join(dir, `${collection}.${extension}`);
  const out = createWriteStream(file);
  const gzip = format === 'bson.gz' ? createGzip() : undefined;
  gzip?.pipe(out);
  const target: Writable = gzip ?? out;
  let first = true;
  if (format === 'json-array') await write(target, '[');
  for (const doc of docs) {
    if (format === 'bson' || format === 'bson.gz') await write(target, BSON.serialize(doc));
    else if (format === 'jsonl') await write(target, `${EJSON.stringify(doc, { relaxed: false })}\n`);
    else await write(target, `${first ? '' : ',\n'}${EJSON.stringify(doc, { relaxed: false })}`);
    first = false;
  }
  if (format === 'json-array') await write(target, ']\n');
  target.end();
  await once(out, 'close');
  return file;
}

/** Writes every collection of a dump in one format. */
export async function writeDump(
  dir: string,
  collections: Record<string, LegacyDoc[]>,
  format: DumpFormat | ((collection: string) => DumpFormat),
): Promise<void> {
  for (const [name, docs] of Object.entries(collections)) {
    await writeCollection(dir, name, docs, typeof format === 'function' ? format(name) : format);
  }
}
