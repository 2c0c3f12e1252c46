import multipart from '@fastify/multipart';
import type { FastifyRequest, preValidationAsyncHookHandler } from 'fastify';
import type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from '../config.js';
import { AppError, validationError } from './errors.js';
import { randomToken } from './hash.js';
import type { Storage } from './storage/storage.js';

/**
 * Catalogue writes accept JSON, or multipart with a text field `data` holding the JSON and image files.
 * Files are read into memory and checked (count, size, type by content) before anything is stored,
 * so a rejected request never leaves a file behind.
 */

export interface UploadedImage {
  field: string;
  filename: string;
  ext: 'jpg' | 'png' | 'webp';
  contentType: string;
  buffer: Buffer;
}

export interface StoredImage {
  key: string;
  url: string;
}

export interface UploadRules {
  /** Multipart field that carries the images (`file` for a division thumbnail, `files` for tour images). */
  field: string;
  maxFiles: number;
  maxFileBytes: number;
}

/** Minimal logger contract, so services can report cleanup failures without failing the request. */
export interface CleanupLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
}

const uploadsByRequest = new WeakMap<FastifyRequest, UploadedImage[]>();

/** The image type from the file's first bytes; the client's declared type and name are not trusted. */
export function detectImageType(buffer: Buffer): Pick<UploadedImage, 'ext' | 'contentType'> | undefined {
  if (buffer.length >= 3 && buffer[0] === 0xff && buffer[1] === 0xd8 && buffer[2] === 0xff) {
    return { ext: 'jpg', contentType: 'image/jpeg' };
  }
  if (buffer.length >= 8 && buffer.subarray(0, 8).equals(PNG_SIGNATURE)) {
    return { ext: 'png', contentType: 'image/png' };
  }
  if (
    buffer.length >= 12 &&
    buffer.toString('latin1', 0, 4) === 'RIFF' &&
    buffer.toString('latin1', 8, 12) === 'WEBP'
  ) {
    return { ext: 'webp', contentType: 'image/webp' };
  }
  return undefined;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function humanSize(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return mb >= 1 ? `${Math.round(mb * 10) / 10} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

function tooLarge(path: string, message: string) {
  return new AppError(413, 'PAYLOAD_TOO_LARGE', message, [{ path, message }]);
}

/** The `data` field: JSON text, or (sent as a part typed application/json) already parsed by the plugin. */
function parseDataField(value: unknown): Record<string, unknown> {
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = value.trim() === '' ? {} : JSON.parse(value);
    } catch {
      throw validationError('data', 'data must hold a JSON object');
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw validationError('data', 'data must hold a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function translateMultipartError(err: unknown, rules: UploadRules): unknown {
  const code = (err as { code?: string }).code;
  if (code === 'FST_REQ_FILE_TOO_LARGE') {
    return tooLarge(
      rules.field,
      `${rules.field}: each image must be at most ${humanSize(rules.maxFileBytes)}`,
    );
  }
  if (code === 'FST_FILES_LIMIT') {
    const what = rules.maxFiles === 1 ? 'one image' : `${rules.maxFiles} images`;
    return tooLarge(rules.field, `${rules.field}: at most ${what} per request`);
  }
  if (code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') {
    return tooLarge('', 'Too many parts in the multipart request');
  }
  if (err instanceof AppError || typeof (err as { statusCode?: unknown }).statusCode === 'number') return err;
  // The parser's own errors (truncated body, missing boundary, broken part headers) are the client's doing.
  return validationError('body', 'Malformed multipart body');
}

async function readMultipart(request: FastifyRequest, rules: UploadRules) {
  let body: Record<string, unknown> = {};
  const images: UploadedImage[] = [];
  const parts = request.parts({
    limits: { files: rules.maxFiles, fileSize: rules.maxFileBytes },
  });
  for await (const part of parts) {
    if (part.type === 'field') {
      if (part.fieldname === 'data') body = parseDataField(part.value);
      continue;
    }
    if (part.fieldname !== rules.field) {
      part.file.resume();
      throw validationError(
        part.fieldname,
        `Unexpected file field "${part.fieldname}"; send images as "${rules.field}"`,
      );
    }
    const buffer = await part.toBuffer();
    // Browsers send an empty part when a file input is left empty.
    if (buffer.length === 0 && !part.filename) continue;
    const type = detectImageType(buffer);
    if (!type) {
      throw validationError(
        rules.field,
        `${rules.field}: "${part.filename || 'upload'}" is not a JPEG, PNG or WebP image`,
      );
    }
    images.push({ field: part.fieldname, filename: part.filename, buffer, ...type });
  }
  return { body, images };
}

/**
 * preValidation hook: a multipart request's `data` JSON becomes the body (so the route's schema
 * validates it like a JSON body) and its images wait in memory for `uploadedImages(request)`.
 */
export function acceptImageUploads(rules: UploadRules): preValidationAsyncHookHandler {
  return async (request) => {
    if (!request.isMultipart()) return;
    try {
      const { body, images } = await readMultipart(request, rules);
      request.body = body;
      uploadsByRequest.set(request, images);
    } catch (err) {
      throw translateMultipartError(err, rules);
    }
  };
}

type RouteScope = Parameters<FastifyPluginAsyncZod>[0];

/**
 * Registers routes that read files in a scope of their own with the multipart plugin, whose hooks then run
 * only on those routes; every other route (the catalogue reads among them) keeps the app's bare parser, which
 * takes a multipart body as no body, as the plugin's parser does. Awaited where it stands, so the routes
 * keep their place in the registration order (and in the OpenAPI document).
 */
export async function registerUploadRoutes(
  app: RouteScope,
  config: Pick<Config, 'uploads' | 'bodyLimitBytes'>,
  routes: (scope: RouteScope) => void,
): Promise<void> {
  await app.register(async (scope) => {
    scope.removeContentTypeParser('multipart/form-data');
    await scope.register(multipart, {
      limits: {
        fileSize: config.uploads.maxFileBytes,
        files: config.uploads.maxFiles,
        fields: 20,
        fieldSize: config.bodyLimitBytes,
        parts: config.uploads.maxFiles + 20,
      },
    });
    routes(scope.withTypeProvider<ZodTypeProvider>());
  });
}

/** The checked images of a multipart request (none for JSON requests). */
export function uploadedImages(request: FastifyRequest): UploadedImage[] {
  return uploadsByRequest.get(request) ?? [];
}

/** Stores images under unguessable `images/<random>.<ext>` keys; on failure removes what it stored. */
export async function storeImages(
  storage: Storage,
  images: readonly UploadedImage[],
): Promise<StoredImage[]> {
  const stored: StoredImage[] = [];
  try {
    for (const image of images) {
      const key = `images/${randomToken(16)}.${image.ext}`;
      await storage.put(key, image.buffer, image.contentType);
      stored.push({ key, url: storage.publicUrl(key) });
    }
    return stored;
  } catch (err) {
    await Promise.allSettled(stored.map((s) => storage.delete(s.key)));
    throw err;
  }
}

/**
 * Stores the images, runs `write` with their URLs, and removes the stored files again when `write`
 * fails, so a failed request leaves nothing behind.
 */
export async function withStoredImages<T>(
  storage: Storage,
  images: readonly UploadedImage[],
  write: (urls: string[]) => Promise<T>,
): Promise<T> {
  const stored = await storeImages(storage, images);
  try {
    return await write(stored.map((s) => s.url));
  } catch (err) {
    await Promise.allSettled(stored.map((s) => storage.delete(s.key)));
    throw err;
  }
}

/**
 * Deletes the files behind our own image URLs (foreign URLs are left alone). Runs after a commit,
 * so a failure is logged rather than failing a change that already happened.
 */
export async function removeImageFiles(
  storage: Storage,
  urls: readonly string[],
  log: CleanupLogger,
): Promise<void> {
  await Promise.all(
    urls.map(async (url) => {
      const key = storage.keyFromUrl(url);
      if (!key?.startsWith('images/')) return;
      try {
        await storage.delete(key);
      } catch (err) {
        log.warn(
          { err: err instanceof Error ? err.message : String(err), key },
          'could not delete image file',
        );
      }
    }),
  );
}
