import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('metrics and retention settings', () => {
  it('defaults: files kept forever, abandoned uploads aborted after 7 days, no lifecycle put on external buckets, no token', () => {
    const config = loadConfig({});
    expect(config.retention).toEqual({ fileDays: undefined, abortIncompleteUploadsDays: 7, manageBucketLifecycle: false });
    expect(config.metricsToken).toBeUndefined();
  });

  it('reads FILE_RETENTION_DAYS, ABORT_INCOMPLETE_UPLOADS_DAYS, S3_MANAGE_LIFECYCLE and METRICS_TOKEN', () => {
    const config = loadConfig({
      FILE_RETENTION_DAYS: '30',
      ABORT_INCOMPLETE_UPLOADS_DAYS: '2',
      S3_MANAGE_LIFECYCLE: 'true',
      METRICS_TOKEN: 'x'.repeat(16),
    });
    expect(config.retention).toEqual({ fileDays: 30, abortIncompleteUploadsDays: 2, manageBucketLifecycle: true });
    expect(config.metricsToken).toBe('x'.repeat(16));
  });

  it('refuses 0 days and a short token, without echoing the token', () => {
    expect(() => loadConfig({ FILE_RETENTION_DAYS: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ ABORT_INCOMPLETE_UPLOADS_DAYS: '0' })).toThrow(ConfigError);
    let message = '';
    try {
      loadConfig({ METRICS_TOKEN: 'short-secret' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('METRICS_TOKEN');
    expect(message).not.toContain('short-secret');
  });
});
