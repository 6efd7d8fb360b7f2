import { create as contentDisposition } from 'content-disposition';
import { previewKindOf } from '../../contract/api.ts';
import type { Signer } from './signer.ts';

/**
 * A presigned GET a page may show (an <img>, <video>, <audio> or PDF viewer): `inline`, and with
 * its Content-Type pinned, but only for INLINE_PREVIEW_TYPES (contract/api.ts); undefined for any
 * other type, which is never shown, only downloaded as an attachment.
 */
export async function signPreviewLink(
  signer: Signer,
  input: { bucket: string; key: string; filename: string; contentType: string; expiresSeconds: number },
): Promise<string | undefined> {
  if (previewKindOf(input.contentType) === undefined) return undefined;
  return signer.presignGetObject({
    bucket: input.bucket,
    key: input.key,
    expiresIn: input.expiresSeconds,
    response: { contentDisposition: contentDisposition(input.filename, { type: 'inline' }), contentType: input.contentType },
  });
}
