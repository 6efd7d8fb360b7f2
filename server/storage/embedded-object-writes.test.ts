import { readdir, readlink } from 'node:fs/promises';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, expect, it } from 'vitest';
import { startThrowawayS3 } from '../integration/throwaway-s3.ts';

const s3 = await startThrowawayS3('reads');
const { client, dir } = s3;
afterAll(() => s3.stop());

/** This process's open files under the store's directory (the embedded S3 runs in it). */
async function openStoreFiles(): Promise<string[]> {
  const targets = await Promise.all((await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return targets.filter((target) => target.startsWith(dir));
}

async function waitForNoOpenStoreFiles(): Promise<string[]> {
  const until = Date.now() + 2000;
  let open = await openStoreFiles();
  while (open.length > 0 && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    open = await openStoreFiles();
  }
  return open;
}

it.runIf(process.platform === 'linux')('closes an object it does not send: 304 answers leave no file open', async () => {
  const body = 'hello, conditional reads';
  await client.send(new PutObjectCommand({ Bucket: 'reads', Key: 'a.txt', Body: body }));
  const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'reads', Key: 'a.txt' }), { expiresIn: 600 });
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.message);
  process.on('warning', onWarning);
  try {
    const first = await fetch(url);
    expect(await first.text()).toBe(body);
    const etag = first.headers.get('etag')!;
    for (let i = 0; i < 20; i++) {
      const unchanged = await fetch(url, {
        headers: i % 2 ? { 'If-None-Match': etag } : { 'If-Modified-Since': new Date(Date.now() + 60_000).toUTCString() },
      });
      expect(unchanged.status).toBe(304);
      await unchanged.arrayBuffer();
    }
    expect(await waitForNoOpenStoreFiles()).toEqual([]);

    // What is sent is still sent whole, and closed after.
    const ranged = await fetch(url, { headers: { Range: 'bytes=7-17' } });
    expect(ranged.status).toBe(206);
    expect(await ranged.text()).toBe(body.slice(7, 18));
    const head = await fetch(await getSignedUrl(client, new HeadObjectCommand({ Bucket: 'reads', Key: 'a.txt' })), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(body.length));
    expect(await (await fetch(url)).text()).toBe(body);
    expect(await waitForNoOpenStoreFiles()).toEqual([]);
  } finally {
    process.off('warning', onWarning);
  }
  expect(warnings.filter((message) => /file descriptor|FileHandle/i.test(message))).toEqual([]);
});
