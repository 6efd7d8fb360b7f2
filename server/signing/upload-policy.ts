import type { UploadPolicy } from '../../contract/api.ts';
import { attachmentDisposition } from './filenames.ts';
import type { Signer } from './signer.ts';

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
 * Every field below also becomes an exact-match condition (as createPresignedPost does; the signer's
 * output is identical to it, see signer.test.ts).
 */
export async function signUploadPolicy(signer: Signer, input: UploadPolicyInput): Promise<UploadPolicy> {
  const { url, fields, expiration } = await signer.presignPost({
    bucket: input.bucket,
    key: input.key,
    conditions: [['content-length-range', input.size, input.size]],
    fields: {
      'Content-Type': input.contentType,
      'Content-Disposition': attachmentDisposition(input.filename),
      'x-amz-meta-original-name': encodeURIComponent(input.filename),
    },
    expiresIn: input.expiresSeconds,
  });
  return { url, fields, key: input.key, expiresAt: expiration.toISOString() };
}
