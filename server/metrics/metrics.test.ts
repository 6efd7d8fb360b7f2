import { describe, expect, it } from 'vitest';
import { Metrics } from './metrics.ts';

describe('Metrics', () => {
  it('shows the Redis gauge only once it is set, then its state', async () => {
    const metrics = new Metrics({ processMetrics: false });
    expect((await metrics.scrape()).body).not.toContain('postbox_redis_up');
    metrics.setRedisUp(true);
    expect((await metrics.scrape()).body).toContain('postbox_redis_up 1');
    metrics.setRedisUp(false);
    expect((await metrics.scrape()).body).toContain('postbox_redis_up 0');
  });

  it('keeps registries apart: two apps in one process do not clash', async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.signed('post', 10);
    expect((await a.scrape()).body).toContain('postbox_upload_signed_bytes_total 10');
    expect((await b.scrape()).body).toContain('postbox_upload_signed_bytes_total 0');
  });
});
