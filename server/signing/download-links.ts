import type { DownloadLink } from '../../contract/api.ts';
import { isBrowserRenderable } from './content-types.ts';
import { attachmentDisposition } from './filenames.ts';
import type { Signer } from './signer.ts';

/**
 * A presigned GET that downloads as an attachment under the file's original name; a type a browser
 * would render is also served as opaque bytes, whatever the stored object says.
 */
export async function signDownloadLink(
  signer: Signer,
  input: { bucket: string; key: string; filename: string; contentType: string; expiresSeconds: number },
): Promise<DownloadLink> {
  const signedAt = new Date();
  const url = await signer.presignGetObject({
    bucket: input.bucket,
    key: input.key,
    expiresIn: input.expiresSeconds,
    signingDate: signedAt,
    response: {
      contentDisposition: attachmentDisposition(input.filename),
      ...(isBrowserRenderable(input.contentType) && { contentType: 'application/octet-stream' }),
    },
  });
  return { url, expiresAt: new Date(signedAt.getTime() + input.expiresSeconds * 1000).toISOString() };
}
