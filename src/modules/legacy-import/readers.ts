import { createReadStream, type Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BSON, EJSON } from 'bson';
import streamArray from 'stream-json/streamers/stream-array.js';
import streamValues from 'stream-json/streamers/stream-values.js';
import { LEGACY_COLLECTIONS, type LegacyCollection } from '../../db/schema/legacy-ids.js';

/** A legacy document as MongoDB's codec gives it: ObjectIds, Dates and numbers as JS values. */
export type LegacyDocument = Record<string, unknown>;

/** Where one collection of the dump lives: a `mongodump` BSON file or a `mongoexport` Extended JSON file. */
export interface CollectionFile {
  collection: LegacyCollection;
  file: string;
  format: 'bson' | 'json';
  gzip: boolean;
}

const FILE_NAME = /^(?<name>[^.]+)\.(?<format>bson|json)(?<gz>\.gz)?$/;

/**
 * The legacy collections found in `folder`: `<collection>.bson[.gz]` or `<collection>.json[.gz]` in the
 * folder itself or in one database folder below it (mongodump writes `<out>/<database>/<collection>.bson`).
 * Refuses a folder where one collection appears twice (two databases, or both formats), naming the files.
 */
export async function findCollectionFiles(folder: string): Promise<Map<LegacyCollection, CollectionFile>> {
  const found = new Map<LegacyCollection, CollectionFile[]>();
  const scan = async (dir: string, entries: Dirent[]) => {
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const match = FILE_NAME.exec(entry.name);
      const name = match?.groups?.name as LegacyCollection | undefined;
      if (!match?.groups || !name || !LEGACY_COLLECTIONS.includes(name)) continue;
      const files = found.get(name) ?? [];
      files.push({
        collection: name,
        file: path.join(dir, entry.name),
        format: match.groups.format as 'bson' | 'json',
        gzip: Boolean(match.groups.gz),
      });
      found.set(name, files);
    }
  };
  const top = await readdir(folder, { withFileTypes: true });
  await scan(folder, top);
  for (const entry of top) {
    if (entry.isDirectory()) {
      const dir = path.join(folder, entry.name);
      await scan(dir, await readdir(dir, { withFileTypes: true }));
    }
  }
  const result = new Map<LegacyCollection, CollectionFile>();
  for (const [collection, files] of found) {
    if (files.length > 1) {
      throw new Error(
        `${collection} is in several files (${files.map((f) => f.file).join(', ')}); point --from at one database's folder`,
      );
    }
    result.set(collection, files[0]!);
  }
  return result;
}

function open(source: CollectionFile): Readable {
  const raw = createReadStream(source.file, { highWaterMark: 256 * 1024 });
  if (!source.gzip) return raw;
  const gunzip = createGunzip();
  raw.on('error', (err) => gunzip.destroy(err));
  return raw.pipe(gunzip);
}

/** BSON documents one after the other, each led by its int32 length: read as they arrive, never all at once. */
async function* bsonDocuments(source: CollectionFile): AsyncGenerator<LegacyDocument> {
  let pending: Buffer = Buffer.alloc(0);
  let offset = 0;
  for await (const chunk of open(source)) {
    pending = pending.length === 0 ? (chunk as Buffer) : Buffer.concat([pending, chunk as Buffer]);
    while (pending.length >= 4) {
      const size = pending.readInt32LE(0);
      if (size < 5)
        throw new Error(`${source.file}: a document at byte ${offset} has an impossible length ${size}`);
      if (pending.length < size) break;
      yield BSON.deserialize(pending.subarray(0, size)) as LegacyDocument;
      pending = pending.subarray(size);
      offset += size;
    }
  }
  if (pending.length > 0) throw new Error(`${source.file}: ends inside a document at byte ${offset}`);
}

/** The first character that is not white space: `[` for `mongoexport --jsonArray`, else one document a line. */
async function firstCharacter(source: CollectionFile): Promise<string | undefined> {
  const stream = open(source);
  try {
    for await (const chunk of stream) {
      const text = (chunk as Buffer).toString('utf8').trimStart();
      if (text) return text[0];
    }
    return undefined;
  } finally {
    stream.destroy();
  }
}

/** Extended JSON (canonical or relaxed), as `mongoexport` writes it: one document a line, or an array. */
async function* jsonDocuments(source: CollectionFile): AsyncGenerator<LegacyDocument> {
  const first = await firstCharacter(source);
  if (first === undefined) return;
  const parser = first === '[' ? streamArray.withParserAsStream() : streamValues.withParserAsStream();
  const input = open(source);
  input.on('error', (err) => parser.destroy(err));
  for await (const item of input.pipe(parser)) {
    const { value } = item as { value: unknown };
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      throw new Error(
        `${source.file}: expected one document (an object), found ${JSON.stringify(value)?.slice(0, 40)}`,
      );
    }
    yield EJSON.deserialize(value as Record<string, unknown>, { relaxed: true }) as LegacyDocument;
  }
}

/** The documents of one collection file, streamed. A broken file stops the import (nothing is written). */
export function readDocuments(source: CollectionFile): AsyncGenerator<LegacyDocument> {
  return source.format === 'bson' ? bsonDocuments(source) : jsonDocuments(source);
}
