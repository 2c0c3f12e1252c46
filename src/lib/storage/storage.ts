/** Where uploaded images and generated invoices live: local disk by default, S3-compatible when configured. */
export interface Storage {
  /** Stores bytes under `key` (e.g. `images/ab12.webp`), replacing any previous content. */
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  /** The stored bytes, or undefined when the key does not exist. */
  get(key: string): Promise<Buffer | undefined>;
  /** Removes `key`; missing keys are not an error. */
  delete(key: string): Promise<void>;
  /** Absolute URL at which a public object (images) can be fetched by browsers. */
  publicUrl(key: string): string;
  /** The key of one of our public URLs, or undefined for foreign URLs. */
  keyFromUrl(url: string): string | undefined;
}

const KEY_PART = /^[\w-][\w.-]*$/;

/**
 * One `/`-separated part of a storage key: letters, digits, `_`, `-` and `.`, not starting with a dot and
 * without `..`, so no key leaves its folder. Generated names are URL-safe base64 and may start with `-` or `_`.
 */
export const isSafeKeyPart = (part: string): boolean => KEY_PART.test(part) && !part.includes('..');

export const isSafeStorageKey = (key: string): boolean => key.split('/').every(isSafeKeyPart);

/** Storage keys are built by the app, never taken from a request as they are: an unsafe one is a bug. */
export function assertSafeStorageKey(key: string): string {
  if (!isSafeStorageKey(key)) throw new Error(`Unsafe storage key: ${key}`);
  return key;
}
