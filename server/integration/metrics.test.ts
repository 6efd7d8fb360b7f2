import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type ShareLink, type UploadPolicy } from '../../contract/api.ts';
import { postThroughPolicy, startTestPostbox, type TestPostbox } from './harness.ts';

const TOKEN = 'metrics-token-0123456789';

let app: TestPostbox;
let shareUrl: string;
let uploadedKey: string;

beforeAll(async () => {
  app = await startTestPostbox({ RATE_LIMIT_PER_MINUTE: '3', METRICS_TOKEN: TOKEN });
});
afterAll(() => app?.stop());

async function scrape(headers: Record<string, string> = {}) {
  const response = await fetch(`${app.url}/metrics`, { headers });
  return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
}

/** The value of one sample line (`name{labels} value`), 0 when the series is absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('GET /metrics', () => {
  it('counts uploads, links, share downloads, storage calls and 429s by route pattern, never by URL', async () => {
    const bytes = new TextEncoder().encode('counted bytes');
    const signed = await app.call('POST', api.uploads, { name: 'secret-name.txt', size: bytes.length, type: 'text/plain' });
    expect(signed.status).toBe(201);
    const policy = signed.body as UploadPolicy;
    expect((await postThroughPolicy(policy, bytes)).status).toBe(204);
    expect((await app.call('POST', api.fileLink(policy.key), { expiresIn: 3600 })).status).toBe(201);
    const shared = await app.call('POST', api.fileShares(policy.key), { expiresIn: 3600 });
    expect(shared.status).toBe(201);
    const share = shared.body as ShareLink;
    shareUrl = share.url;
    uploadedKey = policy.key;
    const download = await fetch(share.url, { method: 'POST', redirect: 'manual' });
    expect(download.status).toBe(303);
    // The fourth signing request in a minute is over RATE_LIMIT_PER_MINUTE=3.
    expect((await app.call('POST', api.uploads, { name: 'x.txt', size: 1, type: 'text/plain' })).status).toBe(429);

    const { status, type, text } = await scrape();
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(text, 'postbox_signatures_total{kind="post"}')).toBe(1);
    expect(sample(text, 'postbox_signatures_total{kind="get"}')).toBe(1);
    expect(sample(text, 'postbox_signatures_total{kind="share_download"}')).toBe(1);
    expect(sample(text, 'postbox_upload_signed_bytes_total')).toBe(bytes.length);
    expect(sample(text, 'postbox_http_requests_total{method="POST",route="/api/uploads",status="201"}')).toBe(1);
    expect(sample(text, 'postbox_http_requests_total{method="POST",route="/api/files/:key/shares",status="201"}')).toBe(1);
    expect(sample(text, 'postbox_http_requests_total{method="POST",route="/s/:id",status="303"}')).toBe(1);
    expect(sample(text, 'postbox_http_requests_total{method="POST",route="/storage",status="204"}')).toBe(1);
    expect(sample(text, 'postbox_rate_limited_total{route="/api (no route)"}')).toBe(1);
    expect(sample(text, 'postbox_storage_requests_total{operation="HeadObjectCommand",outcome="ok"}')).toBeGreaterThan(0);
    expect(sample(text, 'postbox_http_request_duration_seconds_count{method="POST",route="/api/uploads"}')).toBe(1);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    // Labels are patterns: no key, file name or share id anywhere in the scrape.
    expect(text).not.toContain(policy.key.split('/')[1]);
    expect(text).not.toContain('secret-name');
    expect(text).not.toContain(new URL(share.url).pathname.slice(3));
  });

  it('counts storage answers apart from failures: the HEAD of a deleted file is a client_error', async () => {
    const series = 'postbox_storage_requests_total{operation="HeadObjectCommand",outcome="client_error"}';
    const before = sample((await scrape()).text, series);
    await app.storage.client.send(new DeleteObjectCommand({ Bucket: app.storage.bucket, Key: uploadedKey }));
    expect((await fetch(shareUrl)).status).toBe(410);
    const text = (await scrape()).text;
    expect(sample(text, series)).toBe(before + 1);
    expect(sample(text, 'postbox_storage_requests_total{operation="HeadObjectCommand",outcome="error"}')).toBe(0);
    expect(sample(text, 'postbox_http_requests_total{method="GET",route="/s/:id",status="410"}')).toBe(1);
  });

  it('serves a client with METRICS_TOKEN and refuses a wrong token with 401', async () => {
    expect((await scrape({ authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    const wrong = await scrape({ authorization: 'Bearer not-the-token-at-all' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).not.toContain('postbox_');
  });

  it('refuses a loopback request that came through a proxy (X-Forwarded-For), token or not', async () => {
    const proxied = await scrape({ 'x-forwarded-for': '203.0.113.9' });
    expect(proxied.status).toBe(404);
    expect(proxied.text).not.toContain('postbox_');
    expect((await scrape({ 'x-forwarded-for': '203.0.113.9', authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });
});

describe('storage errors', () => {
  it('counts a storage that does not answer as outcome="error", by operation', async () => {
    // The SDK's default provider chain reads these (this file's own process).
    process.env.AWS_ACCESS_KEY_ID = 'outage';
    process.env.AWS_SECRET_ACCESS_KEY = 'outage';
    const down = await startTestPostbox({
      S3_BUCKET: 'unreachable',
      // Port 9 (discard) on loopback: nothing listens, connections are refused at once.
      S3_ENDPOINT: 'http://127.0.0.1:9',
      S3_FORCE_PATH_STYLE: 'true',
      S3_MAX_ATTEMPTS: '1',
    });
    try {
      expect((await down.call('GET', api.health)).status).toBe(503);
      const text = await (await fetch(`${down.url}/metrics`)).text();
      expect(sample(text, 'postbox_storage_requests_total{operation="HeadBucketCommand",outcome="error"}')).toBe(1);
      expect(sample(text, 'postbox_storage_request_duration_seconds_count{operation="HeadBucketCommand"}')).toBe(1);
      expect(sample(text, 'postbox_http_requests_total{method="GET",route="/api/health",status="503"}')).toBe(1);
    } finally {
      await down.stop();
    }
  });
});
