import { expect, test } from '@playwright/test';

/**
 * Runs last (specs run in file-name order on one worker): the main app's /metrics, scraped from
 * loopback after the whole run, must show the run's uploads, download links and share downloads.
 * Run on its own it has nothing to count: run it after the other specs (`npx playwright test`).
 */
test('/metrics counts the uploads, links and share downloads of the e2e run', async ({ request }) => {
  const response = await request.get('/metrics');
  expect(response.status()).toBe(200);
  const text = await response.text();
  const value = (series: string) =>
    Number(
      text
        .split('\n')
        .find((line) => line.startsWith(`${series} `))
        ?.slice(series.length + 1) ?? 0,
    );

  expect(value('postbox_signatures_total{kind="post"}')).toBeGreaterThan(0);
  expect(value('postbox_upload_signed_bytes_total')).toBeGreaterThan(0);
  expect(value('postbox_http_requests_total{method="POST",route="/storage",status="204"}')).toBeGreaterThan(0);
  expect(value('postbox_signatures_total{kind="get"}')).toBeGreaterThan(0);
  expect(value('postbox_signatures_total{kind="share_download"}')).toBeGreaterThan(0);
  expect(value('postbox_http_requests_total{method="POST",route="/api/files/:key/shares",status="201"}')).toBeGreaterThan(0);
  // Never a key or share id in a label.
  expect(text).not.toMatch(/uploads\/\d|\/s\/[A-Za-z0-9_-]{10,}/);
});
