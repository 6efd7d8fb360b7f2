import { createHmac, randomBytes } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isNotFound, storageUnavailable } from '../storage/storage-errors.ts';

/** Where the secret lives: outside `uploads/`, so no route can sign, list or delete it. */
export const INSTALL_SECRET_KEY = 'postbox/install-secret';

/**
 * A random secret made once per install and kept in the bucket, so every instance that shares the
 * bucket shares it and nothing else needs to be run or configured. Keys for each purpose (session
 * cookies, multipart upload tokens, …) are derived from it, never the secret itself.
 *
 * Read lazily and remembered: storage that is down at start makes the first caller fail with a 503,
 * and a later call tries again.
 */
export class InstallSecret {
  private loading?: Promise<Buffer>;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  /** HMAC-SHA256(secret, purpose): one independent key per purpose. */
  async key(purpose: string): Promise<Buffer> {
    return deriveKey(await this.secret(), purpose);
  }

  private secret(): Promise<Buffer> {
    this.loading ??= this.load().catch((err: unknown) => {
      this.loading = undefined;
      throw storageUnavailable(err);
    });
    return this.loading;
  }

  private async load(): Promise<Buffer> {
    const existing = await this.read();
    if (existing) return existing;
    try {
      // Two instances starting at once: the first write wins where the store honours If-None-Match.
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: INSTALL_SECRET_KEY,
          Body: randomBytes(32).toString('base64url'),
          IfNoneMatch: '*',
        }),
      );
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 412) throw err;
    }
    // Read back what is stored, so that every instance ends up with the same secret.
    const stored = await this.read();
    if (!stored) throw new Error('The install secret could not be stored.');
    return stored;
  }

  private async read(): Promise<Buffer | undefined> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: INSTALL_SECRET_KEY }));
      const text = (await object.Body!.transformToString('utf8')).trim();
      if (!/^[A-Za-z0-9_-]{43}$/.test(text)) throw new Error(`The install secret at ${INSTALL_SECRET_KEY} is damaged.`);
      return Buffer.from(text, 'base64url');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}

export function deriveKey(secret: Buffer | string, purpose: string): Buffer {
  return createHmac('sha256', secret).update(`postbox:${purpose}`).digest();
}
