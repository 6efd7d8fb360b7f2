import type { S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import type { UploadPolicy } from '../http/contract.ts';
import { attachmentDisposition } from './filenames.ts';

export interface UploadPolicyInput {
  bucket: string;
  key: string;
  /** Already sanitized. */
  filename: string;
  /** Already normalized and allowed. */
  contentType: string;
  /** Exact size the browser declared; S3 refuses any other length. */
  size: number;
  expiresSeconds: number;
}

/**
 * A presigned POST whose conditions make S3 itself enforce the rules: the exact key, the exact
 * size, the content type, an attachment disposition under the original name, and a short expiry.
 * Every field below also becomes an exact-match condition (createPresignedPost adds them).
 */
export async function signUploadPolicy(client: S3Client, input: UploadPolicyInput): Promise<UploadPolicy> {
  const signedAt = Date.now();
  const { url, fields } = await createPresignedPost(client, {
    Bucket: input.bucket,
    Key: input.key,
    Conditions: [['content-length-range', input.size, input.size]],
    Fields: {
      'Content-Type': input.contentType,
      'Content-Disposition': attachmentDisposition(input.filename),
      'x-amz-meta-original-name': encodeURIComponent(input.filename),
    },
    Expires: input.expiresSeconds,
  });
  return {
    url,
    fields,
    key: input.key,
    expiresAt: new Date(signedAt + input.expiresSeconds * 1000).toISOString(),
  };
}
