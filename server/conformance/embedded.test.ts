import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { EMBEDDED_CREDENTIALS, startEmbeddedS3 } from '../storage/embedded-s3.ts';
import { conformanceSuite } from './suite.ts';

const dir = await mkdtemp(path.join(tmpdir(), 'postbox-conformance-'));
const s3 = await startEmbeddedS3({ dataDir: dir, port: 0, bucket: 'conformance' });
afterAll(async () => {
  await s3.stop();
  await rm(dir, { recursive: true, force: true });
});

conformanceSuite({
  name: 'the embedded S3 (s3rver)',
  endpoint: s3.endpoint,
  bucket: 'conformance',
  credentials: EMBEDDED_CREDENTIALS,
  notEnforced: new Set(['conditional-writes']),
});
