import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Storage } from '../../src/lib/storage/s3-storage.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import {
  imageNamesForEveryCharacter,
  multipart,
  pngImage,
  UNSAFE_IMAGE_NAMES,
} from '../helpers/catalogue.js';
import { createUser } from '../helpers/factories.js';

/** A tiny path-style S3 stand-in: PUT, GET and DELETE of objects kept in memory. */
function startFakeS3() {
  const objects = new Map<string, { body: Buffer; contentType?: string }>();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      requests.push(`${req.method} ${path}`);
      if (!req.headers.authorization?.startsWith('AWS4-HMAC-SHA256')) {
        res.writeHead(403).end();
        return;
      }
      if (req.method === 'PUT') {
        objects.set(path, { body: Buffer.concat(chunks), contentType: req.headers['content-type'] });
        res.writeHead(200, { etag: '"fake"' }).end();
      } else if (req.method === 'GET') {
        const object = objects.get(path);
        if (!object) {
          res
            .writeHead(404, { 'content-type': 'application/xml' })
            .end('<?xml version="1.0"?><Error><Code>NoSuchKey</Code><Message>missing</Message></Error>');
          return;
        }
        res
          .writeHead(200, { 'content-type': object.contentType ?? 'application/octet-stream' })
          .end(object.body);
      } else if (req.method === 'DELETE') {
        objects.delete(path);
        res.writeHead(204).end();
      } else {
        res.writeHead(405).end();
      }
    });
  });
  return new Promise<{
    url: string;
    objects: typeof objects;
    requests: string[];
    close: () => Promise<void>;
  }>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        objects,
        requests,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

let s3: Awaited<ReturnType<typeof startFakeS3>>;
const credentials = { accessKeyId: 'test-key', secretAccessKey: 'test-secret' };

beforeAll(async () => {
  s3 = await startFakeS3();
});
afterAll(() => s3.close());

describe('S3-compatible storage driver', () => {
  const storage = () =>
    createS3Storage(
      { endpoint: s3.url, region: 'us-east-1', bucket: 'tours', forcePathStyle: true, ...credentials },
      'http://api.test.local',
    );

  it('puts, gets and deletes objects in the bucket with signed requests', async () => {
    const store = storage();
    await store.put('images/abc.png', pngImage(), 'image/png');
    expect(s3.objects.get('/tours/images/abc.png')).toMatchObject({ contentType: 'image/png' });
    expect((await store.get('images/abc.png'))?.equals(pngImage())).toBe(true);
    await store.delete('images/abc.png');
    expect(s3.objects.has('/tours/images/abc.png')).toBe(false);
    expect(await store.get('images/abc.png')).toBeUndefined();
  });

  it('refuses unsafe keys before any request is made', async () => {
    const before = s3.requests.length;
    await expect(storage().put('../etc/passwd', Buffer.from('x'), 'text/plain')).rejects.toThrow(/Unsafe/);
    expect(s3.requests.length).toBe(before);
  });

  it('serves images through the API unless a public bucket URL is configured', () => {
    const viaApi = storage();
    expect(viaApi.publicUrl('images/a.webp')).toBe('http://api.test.local/uploads/images/a.webp');
    expect(viaApi.keyFromUrl('http://api.test.local/uploads/images/a.webp')).toBe('images/a.webp');
    expect(viaApi.keyFromUrl('https://elsewhere.example/images/a.webp')).toBeUndefined();

    const viaCdn = createS3Storage(
      {
        region: 'us-east-1',
        bucket: 'tours',
        forcePathStyle: false,
        publicUrl: 'https://cdn.example/t/',
        ...credentials,
      },
      'http://api.test.local',
    );
    expect(viaCdn.publicUrl('images/a.webp')).toBe('https://cdn.example/t/images/a.webp');
    expect(viaCdn.keyFromUrl('https://cdn.example/t/images/a.webp')).toBe('images/a.webp');
    expect(viaCdn.keyFromUrl('http://api.test.local/uploads/images/a.webp')).toBe('images/a.webp');
  });
});

describe('the app with S3_* configured', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({
      env: {
        S3_ENDPOINT: s3.url,
        S3_BUCKET: 'catalogue',
        S3_ACCESS_KEY_ID: credentials.accessKeyId,
        S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      },
    });
  });
  afterAll(() => t.close());

  it('stores uploads in the bucket, serves them, and deletes a replaced thumbnail there', async () => {
    const admin = await createUser(t.ctx, { role: 'ADMIN' });
    const send = async (
      method: 'POST' | 'PATCH',
      url: string,
      data: Record<string, unknown>,
      seed: number,
    ) => {
      const form = await multipart(data, [{ field: 'file', content: pngImage(seed) }]);
      return t.app.inject({
        method,
        url,
        headers: { ...admin.auth, ...form.headers },
        payload: form.payload,
      });
    };
    const created = (await send('POST', '/api/v1/division/create', { name: 'Bucketed' }, 1)).json().data;
    const key = `/catalogue/${new URL(created.thumbnail).pathname.replace('/uploads/', '')}`;
    expect(s3.objects.has(key)).toBe(true);

    const served = await t.app.inject({ method: 'GET', url: new URL(created.thumbnail).pathname });
    expect(served.statusCode).toBe(200);
    expect(served.rawPayload.equals(pngImage(1))).toBe(true);

    const updated = await send('PATCH', `/api/v1/division/${created._id}`, {}, 2);
    expect(updated.statusCode).toBe(200);
    expect(s3.objects.has(key)).toBe(false);
  });

  it('serves an image whatever character of the generated-name alphabet its name starts with', async () => {
    for (const name of imageNamesForEveryCharacter('webp')) {
      await t.ctx.storage.put(`images/${name}`, pngImage(5), 'image/webp');
      const res = await t.app.inject({ method: 'GET', url: `/uploads/images/${name}` });
      expect(res.statusCode, name).toBe(200);
      expect(res.rawPayload.equals(pngImage(5))).toBe(true);
    }
  });

  it('answers a name that can be no stored image with 400 before asking the bucket', async () => {
    const before = s3.requests.length;
    for (const name of UNSAFE_IMAGE_NAMES) {
      const res = await t.app.inject({ method: 'GET', url: `/uploads/images/${name}` });
      expect(res.statusCode, name).toBe(400);
    }
    expect(s3.requests.length).toBe(before);
  });
});
