import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, type StoredFile } from '../../contract/api.ts';
import { postThroughPolicy, startTestPostbox, type TestPostbox } from './harness.ts';

const CLIENTS = 8;
const FILES_PER_CLIENT = 25;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

let app: TestPostbox;
beforeAll(async () => {
  app = await startTestPostbox({ RATE_LIMIT_PER_MINUTE: '0' });
});
afterAll(() => app?.stop());

it(`${CLIENTS * FILES_PER_CLIENT} uploads from ${CLIENTS} clients at once all land, are listed, and download identical`, async () => {
  const started = performance.now();
  const sent = new Map<string, string>(); // key → sha256

  // Every client signs and posts its files concurrently with the others (and its own).
  await Promise.all(
    Array.from({ length: CLIENTS }, (_, client) =>
      Promise.all(
        Array.from({ length: FILES_PER_CLIENT }, async (_, n) => {
          const bytes = randomBytes(1000 + ((client * FILES_PER_CLIENT + n) % 7) * 911);
          const name = `client ${client} – file ${n}.bin`;
          const signed = await app.call('POST', api.uploads, { name, size: bytes.length, type: 'application/octet-stream' });
          expect(signed.status).toBe(201);
          const posted = await postThroughPolicy(signed.body, bytes, name);
          expect(posted.status).toBe(204);
          sent.set(signed.body.key, sha256(bytes));
        }),
      ),
    ),
  );
  const uploadedMs = performance.now() - started;

  const listed = await app.call('GET', `${api.files}?limit=1000`);
  const files = listed.body.files as StoredFile[];
  expect(files).toHaveLength(CLIENTS * FILES_PER_CLIENT);
  expect(new Set(files.map((f) => f.key))).toEqual(new Set(sent.keys()));

  await Promise.all(
    files.map(async (file) => {
      const link = await app.call('POST', api.fileLink(file.key), { expiresIn: 600 });
      const download = await fetch(link.body.url);
      expect(sha256(new Uint8Array(await download.arrayBuffer()))).toBe(sent.get(file.key));
    }),
  );
  console.log(
    `concurrency: ${sent.size} uploads from ${CLIENTS} clients in ${Math.round(uploadedMs)} ms; all listed; all ${files.length} downloads identical (${Math.round(performance.now() - started)} ms in all)`,
  );
});
