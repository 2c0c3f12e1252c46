import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { assertSafeStorageKey, isSafeStorageKey, type Storage } from './storage.js';

/** Files under `<DATA_DIR>/files`; public objects are served by the app at `/uploads/<key>`. */
export function createLocalStorage(root: string, publicBaseUrl: string): Storage {
  const base = path.resolve(root);
  const resolve = (key: string) => path.join(base, assertSafeStorageKey(key));
  const prefix = `${publicBaseUrl.replace(/\/+$/, '')}/uploads/`;
  return {
    async put(key, body) {
      const file = resolve(key);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, body);
    },
    async get(key) {
      try {
        return await readFile(resolve(key));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    async delete(key) {
      await rm(resolve(key), { force: true });
    },
    publicUrl: (key) => prefix + key,
    keyFromUrl(url) {
      if (!url.startsWith(prefix)) return undefined;
      const key = url.slice(prefix.length);
      return isSafeStorageKey(key) ? key : undefined;
    },
  };
}
