import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { DownloadLink } from '../http/contract.ts';
import { attachmentDisposition } from './filenames.ts';

/** A presigned GET that downloads as an attachment under the file's original name. */
export async function signDownloadLink(
  client: S3Client,
  input: { bucket: string; key: string; filename: string; expiresSeconds: number },
): Promise<DownloadLink> {
  const signedAt = Date.now();
  const url = await getSignedUrl(
    client,
    new GetObjectCommand({
      Bucket: input.bucket,
      Key: input.key,
      ResponseContentDisposition: attachmentDisposition(input.filename),
    }),
    { expiresIn: input.expiresSeconds },
  );
  return { url, expiresAt: new Date(signedAt + input.expiresSeconds * 1000).toISOString() };
}
