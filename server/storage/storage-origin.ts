import type { S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { Signer } from '../signing/signer.ts';

/** Where the app serves the embedded store to browsers: `<app origin>/storage/<bucket>/<key>`. */
export const STORAGE_PATH = '/storage';

/**
 * The origin browsers talk to for this bucket (where forms post and links point), as the SDK's
 * presigner resolves it: path-style, virtual-hosted or a custom endpoint.
 */
export async function storageOrigin(signingClient: S3Client, bucket: string): Promise<string> {
  const { url } = await createPresignedPost(signingClient, { Bucket: bucket, Key: 'k', Expires: 60 });
  return new URL(url).origin;
}

/**
 * One Signer per origin the app is reached at, each on its own signing client whose endpoint is
 * `<origin>/storage`. Origins come from requests (known host names, but any IP address and port),
 * so the least recently used one goes past `max`.
 */
export class OriginSigners {
  private readonly signers = new Map<string, { signer: Signer; client: S3Client }>();

  constructor(private readonly options: { bucket: string; makeClient: (endpoint: string) => S3Client; max?: number }) {}

  get(origin: string): Signer {
    const found = this.signers.get(origin);
    if (found) {
      // Map keeps insertion order: moving it to the end makes the first entry the least recently used.
      this.signers.delete(origin);
      this.signers.set(origin, found);
      return found.signer;
    }
    const client = this.options.makeClient(`${new URL(origin).origin}${STORAGE_PATH}`);
    const signer = new Signer(client);
    // Resolves region, credentials and endpoints in the background; a failure shows on first use.
    signer.warmUp(this.options.bucket).catch(() => {});
    this.signers.set(origin, { signer, client });
    if (this.signers.size > (this.options.max ?? 32)) {
      const [oldest, entry] = this.signers.entries().next().value!;
      this.signers.delete(oldest);
      entry.client.destroy();
    }
    return signer;
  }

  get size(): number {
    return this.signers.size;
  }

  close(): void {
    for (const { client } of this.signers.values()) client.destroy();
    this.signers.clear();
  }
}
