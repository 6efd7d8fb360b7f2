import type { DownloadLink } from '../http/contract.ts';
import { attachmentDisposition } from './filenames.ts';
import type { Signer } from './signer.ts';

/** A presigned GET that downloads as an attachment under the file's original name. */
export async function signDownloadLink(
  signer: Signer,
  input: { bucket: string; key: string; filename: string; expiresSeconds: number },
): Promise<DownloadLink> {
  const signedAt = new Date();
  const url = await signer.presignGetObject({
    bucket: input.bucket,
    key: input.key,
    expiresIn: input.expiresSeconds,
    signingDate: signedAt,
    response: { contentDisposition: attachmentDisposition(input.filename) },
  });
  return { url, expiresAt: new Date(signedAt.getTime() + input.expiresSeconds * 1000).toISOString() };
}
