import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import {
  createDivision,
  createTourType,
  IMAGE_NAME_ALPHABET,
  imageNamesForEveryCharacter,
  jpegImage,
  type MultipartFile,
  multipart,
  pngImage,
  storedImageFiles,
  UNSAFE_IMAGE_NAMES,
} from '../helpers/catalogue.js';
import { createUser, type TestUser } from '../helpers/factories.js';

let t: TestApp;
let admin: TestUser;
let divisionId: string;
let tourTypeId: string;
const MAX_FILE_BYTES = 4096;

beforeAll(async () => {
  t = await buildTestApp({ env: { UPLOAD_MAX_FILE_BYTES: String(MAX_FILE_BYTES), UPLOAD_MAX_FILES: '2' } });
  admin = await createUser(t.ctx, { role: 'ADMIN' });
  divisionId = (await createDivision(t.ctx)).id;
  tourTypeId = (await createTourType(t.ctx)).id;
});
afterAll(() => t.close());

const tourData = (overrides: Record<string, unknown> = {}) => ({
  title: 'Upload Test',
  costFrom: 100,
  // Always ahead of the app's clock (the real one here), whatever day the tests run.
  startDate: `${new Date().getUTCFullYear() + 2}-05-01`,
  endDate: `${new Date().getUTCFullYear() + 2}-05-02`,
  division: divisionId,
  tourType: tourTypeId,
  ...overrides,
});

async function send(
  method: 'POST' | 'PATCH',
  url: string,
  data: Record<string, unknown>,
  files: MultipartFile[],
) {
  const form = await multipart(data, files);
  return t.app.inject({ method, url, headers: { ...admin.auth, ...form.headers }, payload: form.payload });
}

const webp = () =>
  Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBPVP8 '), Buffer.alloc(32)]);
const fileName = (url: string) => url.split('/').pop()!;

describe('image uploads', () => {
  it('accepts JPEG, PNG and WebP by content and stores each with the matching extension', async () => {
    const res = await send('POST', '/api/v1/tour/create', tourData({ title: 'Three Kinds' }), [
      { field: 'files', content: jpegImage(), filename: 'a.jpg', type: 'image/jpeg' },
      { field: 'files', content: webp(), filename: 'b.webp', type: 'image/webp' },
    ]);
    expect(res.statusCode).toBe(201);
    expect(res.json().data.images.map((u: string) => u.split('.').pop())).toEqual(['jpg', 'webp']);
  });

  it('refuses a file that is not an image even when it claims to be one, and stores nothing', async () => {
    const before = await storedImageFiles(t.dataDir);
    const res = await send('POST', '/api/v1/tour/create', tourData(), [
      { field: 'files', content: pngImage() },
      {
        field: 'files',
        content: Buffer.from('<svg onload="alert(1)"/>'),
        filename: 'x.png',
        type: 'image/png',
      },
    ]);
    expect(res.statusCode).toBe(400);
    expect(res.json().errorSources[0].path).toBe('files');
    expect(res.json().message).toMatch(/not a JPEG, PNG or WebP image/);
    expect(await storedImageFiles(t.dataDir)).toEqual(before);
  });

  it('refuses an oversized file with 413 and stores nothing', async () => {
    const before = await storedImageFiles(t.dataDir);
    const big = Buffer.concat([pngImage(), Buffer.alloc(MAX_FILE_BYTES * 2)]);
    const res = await send('POST', '/api/v1/tour/create', tourData(), [
      { field: 'files', content: pngImage() },
      { field: 'files', content: big },
    ]);
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ success: false, code: 'PAYLOAD_TOO_LARGE' });
    expect(res.json().message).toBe('files: each image must be at most 4 KB');
    expect(await storedImageFiles(t.dataDir)).toEqual(before);
  });

  it('refuses more files than allowed with 413 and stores nothing', async () => {
    const before = await storedImageFiles(t.dataDir);
    const res = await send('POST', '/api/v1/tour/create', tourData(), [
      { field: 'files', content: pngImage(1) },
      { field: 'files', content: pngImage(2) },
      { field: 'files', content: pngImage(3) },
    ]);
    expect(res.statusCode).toBe(413);
    expect(res.json().message).toMatch(/at most 2 images/);
    expect(await storedImageFiles(t.dataDir)).toEqual(before);
  });

  it('allows a single division thumbnail only', async () => {
    const res = await send('POST', '/api/v1/division/create', { name: 'Two Pictures' }, [
      { field: 'file', content: pngImage(1) },
      { field: 'file', content: pngImage(2) },
    ]);
    expect(res.statusCode).toBe(413);
    expect(res.json().errorSources[0].path).toBe('file');
  });

  it('refuses files under an unexpected field name with 400 naming it', async () => {
    const res = await send('POST', '/api/v1/division/create', { name: 'Wrong Field' }, [
      { field: 'files', content: pngImage(1) },
    ]);
    expect(res.statusCode).toBe(400);
    expect(res.json().errorSources[0].path).toBe('files');
  });

  it('removes the stored files of a request that fails after they were stored', async () => {
    const before = await storedImageFiles(t.dataDir);
    const missing = '01890a5d-ac96-774b-bcce-b302099a8057';
    const res = await send('POST', '/api/v1/tour/create', tourData({ division: missing }), [
      { field: 'files', content: pngImage(4) },
    ]);
    expect(res.statusCode).toBe(400);
    expect(res.json().errorSources[0].path).toBe('division');
    expect(await storedImageFiles(t.dataDir)).toEqual(before);

    await createDivision(t.ctx, { name: 'Taken Name' });
    const duplicate = await send('POST', '/api/v1/division/create', { name: 'taken name' }, [
      { field: 'file', content: pngImage(5) },
    ]);
    expect(duplicate.statusCode).toBe(409);
    expect(await storedImageFiles(t.dataDir)).toEqual(before);
  });

  it('deletes an image listed in deleteImages from disk after the update, and only the tour’s own', async () => {
    const other = (
      await send('POST', '/api/v1/tour/create', tourData({ title: 'Other Tour' }), [
        { field: 'files', content: pngImage(6) },
      ])
    ).json().data;
    const created = (
      await send('POST', '/api/v1/tour/create', tourData({ title: 'Delete One' }), [
        { field: 'files', content: pngImage(7) },
        { field: 'files', content: pngImage(8) },
      ])
    ).json().data;
    const [gone, kept] = created.images;
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/tour/${created._id}`,
      headers: admin.auth,
      payload: { deleteImages: [gone, other.images[0]] },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.images).toEqual([kept]);
    const files = await storedImageFiles(t.dataDir);
    expect(files).not.toContain(fileName(gone));
    expect(files).toContain(fileName(kept));
    expect(files).toContain(fileName(other.images[0]));
  });

  it('ignores an empty file part, as browsers send for an untouched file input', async () => {
    const res = await send('POST', '/api/v1/division/create', { name: 'No Picture' }, [
      { field: 'file', content: Buffer.alloc(0), filename: '' },
    ]);
    expect(res.statusCode).toBe(201);
    expect(res.json().data.thumbnail).toBeNull();
  });
});

describe('serving stored images', () => {
  it('names stored images with characters of the URL-safe base64 alphabet only', async () => {
    const res = await send('POST', '/api/v1/tour/create', tourData({ title: 'Named Images' }), [
      { field: 'files', content: pngImage(3) },
      { field: 'files', content: jpegImage() },
    ]);
    expect(res.statusCode).toBe(201);
    for (const url of res.json().data.images as string[]) {
      const [stem] = fileName(url).split('.');
      expect(
        [...stem!].every((c) => IMAGE_NAME_ALPHABET.includes(c)),
        url,
      ).toBe(true);
    }
  });

  it('serves an image whatever character of that alphabet its name starts with', async () => {
    for (const name of imageNamesForEveryCharacter()) {
      await t.ctx.storage.put(`images/${name}`, pngImage(4), 'image/png');
      const res = await t.app.inject({ method: 'GET', url: `/uploads/images/${name}` });
      expect(res.statusCode, name).toBe(200);
      expect(res.headers['content-type']).toBe('image/png');
      expect(res.rawPayload.equals(pngImage(4))).toBe(true);
    }
  });

  it('answers a name that can be no stored image with 400 naming it, never 500', async () => {
    for (const name of UNSAFE_IMAGE_NAMES) {
      const res = await t.app.inject({ method: 'GET', url: `/uploads/images/${name}` });
      expect(res.statusCode, name).toBe(400);
      expect(res.json().errorSources?.[0]?.path, name).toBe('name');
    }
  });

  it('answers a well-formed name of no stored image with 404', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/uploads/images/-missing_image.png' });
    expect(res.statusCode).toBe(404);
  });
});
