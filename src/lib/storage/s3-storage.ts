import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { assertSafeStorageKey, isSafeStorageKey, type Storage } from './storage.js';

export interface S3StorageOptions {
  /** Custom endpoint for S3-compatible services (MinIO, R2, Spaces); unset = AWS. */
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
  /** Public base URL of the bucket or a CDN in front of it; unset = served through the API. */
  publicUrl?: string;
}

/**
 * Objects in an S3-compatible bucket. The bucket can stay private: without `publicUrl`, images are
 * served by the API's `/uploads/images/...` route, which reads them through `get`.
 */
export function createS3Storage(options: S3StorageOptions, apiPublicUrl: string): Storage {
  const client = new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
    maxAttempts: 3,
  });
  const Bucket = options.bucket;
  const apiPrefix = `${apiPublicUrl.replace(/\/+$/, '')}/uploads/`;
  const publicPrefix = options.publicUrl ? `${options.publicUrl.replace(/\/+$/, '')}/` : apiPrefix;

  return {
    async put(key, body, contentType) {
      await client.send(
        new PutObjectCommand({
          Bucket,
          Key: assertSafeStorageKey(key),
          Body: body,
          ContentType: contentType,
          // Keys are random and never rewritten with other content.
          CacheControl: key.startsWith('images/')
            ? 'public, max-age=31536000, immutable'
            : 'private, no-store',
        }),
      );
    },
    async get(key) {
      try {
        const object = await client.send(new GetObjectCommand({ Bucket, Key: assertSafeStorageKey(key) }));
        return object.Body ? Buffer.from(await object.Body.transformToByteArray()) : undefined;
      } catch (err) {
        if (
          err instanceof S3ServiceException &&
          (err.name === 'NoSuchKey' || err.$metadata.httpStatusCode === 404)
        ) {
          return undefined;
        }
        throw err;
      }
    },
    async delete(key) {
      // S3 answers a delete of a missing key with success, which matches the interface.
      await client.send(new DeleteObjectCommand({ Bucket, Key: assertSafeStorageKey(key) }));
    },
    publicUrl: (key) => publicPrefix + assertSafeStorageKey(key),
    keyFromUrl(url) {
      // URLs minted under either base (e.g. before a CDN was configured) still map to their key.
      const prefix = [publicPrefix, apiPrefix].find((p) => url.startsWith(p));
      if (!prefix) return undefined;
      const key = url.slice(prefix.length);
      return isSafeStorageKey(key) ? key : undefined;
    },
  };
}
