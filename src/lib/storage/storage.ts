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
