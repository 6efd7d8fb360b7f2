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
  /** More `x-amz-meta-<name>` fields (values already safe for a header), pinned like every field. */
  metadata?: Record<string, string>;
}

/**
 * A presigned POST whose conditions make S3 itself enforce the rules: the exact key, the exact
 * size, the content type, an attachment disposition under the original name, and a short expiry.
 * Every field below also becomes an exact-match condition (as createPresignedPost does; the signer's
 * output is identical to it, see signer.test.ts).
 *
 * The exact-key condition is added here, not left to the signer: createPresignedPost turns a key
 * ending in `${filename}` into a `starts-with` prefix, and one such policy wrote any number of keys.
 * Conditions all have to hold, so with this one a policy writes its key and nothing else.
 */
export async function signUploadPolicy(signer: Signer, input: UploadPolicyInput): Promise<UploadPolicy> {
  if (input.key.includes('${'))
    throw new RangeError(`An upload key must not contain "\${" (S3 substitutes it in a POST form): ${input.key}`);
  const { url, fields, expiration } = await signer.presignPost({
    bucket: input.bucket,
    key: input.key,
    conditions: [['content-length-range', input.size, input.size], { key: input.key }],
    fields: {
      'Content-Type': input.contentType,
      'Content-Disposition': attachmentDisposition(input.filename),
      'x-amz-meta-original-name': encodeURIComponent(input.filename),
      ...Object.fromEntries(Object.entries(input.metadata ?? {}).map(([name, value]) => [`x-amz-meta-${name}`, value])),
    },
    expiresIn: input.expiresSeconds,
  });
  return { url, fields, key: input.key, expiresAt: expiration.toISOString() };
}
