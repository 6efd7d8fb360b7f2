import { parseUploadKey, UPLOAD_PREFIX } from './object-keys.ts';

export const THUMBNAIL_PREFIX = 'thumbs/';

/**
 * Where a file's thumbnail lives: `<space>thumbs/<sort token>-<random>`, beside the file in its
 * owner's space and derived from its key only, so no client names a thumbnail key. Undefined for
 * a key that is no upload key.
 */
export function thumbnailKeyFor(uploadKey: string): string | undefined {
  const parts = parseUploadKey(uploadKey);
  if (!parts) return undefined;
  const id = uploadKey.slice(parts.space.length + UPLOAD_PREFIX.length).split('/')[0]!;
  return `${parts.space}${THUMBNAIL_PREFIX}${id}`;
}
