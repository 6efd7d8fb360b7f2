import { hasThumbnail, THUMBNAIL_MAX_BYTES, THUMBNAIL_MAX_EDGE, type UploadPolicy } from '../../contract/api.ts';
import { postboxApi } from './postbox.ts';

/** The thumbnail's pixel size: the image scaled to fit `maxEdge` on its longer side, never enlarged. */
export function thumbnailSize(width: number, height: number, maxEdge = THUMBNAIL_MAX_EDGE): { width: number; height: number } | undefined {
  if (!(width > 0 && height > 0 && Number.isFinite(width) && Number.isFinite(height))) return undefined;
  const scale = Math.min(1, maxEdge / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** WebP where the browser encodes it (Safari gives PNG instead), else JPEG; lower quality until it fits. */
const ENCODINGS = [
  ['image/webp', 0.8],
  ['image/webp', 0.55],
  ['image/jpeg', 0.8],
  ['image/jpeg', 0.5],
] as const;

async function drawThumbnail(file: File): Promise<Blob | undefined> {
  const bitmap = await createImageBitmap(file);
  try {
    const size = thumbnailSize(bitmap.width, bitmap.height);
    if (!size) return undefined;
    const canvas = document.createElement('canvas');
    canvas.width = size.width;
    canvas.height = size.height;
    canvas.getContext('2d')?.drawImage(bitmap, 0, 0, size.width, size.height);
    for (const [type, quality] of ENCODINGS) {
      const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, type, quality));
      if (blob && blob.type === type && blob.size <= THUMBNAIL_MAX_BYTES) return blob;
    }
    return undefined;
  } finally {
    bitmap.close();
  }
}

async function postToStorage(policy: UploadPolicy, blob: Blob): Promise<void> {
  const form = new FormData();
  for (const [name, value] of Object.entries(policy.fields)) form.append(name, value);
  form.append('file', blob);
  const answer = await fetch(policy.url, { method: 'POST', body: form });
  if (!answer.ok) throw new Error(`storage answered ${answer.status} to the thumbnail`);
}

/**
 * After an image's upload: draws its thumbnail here and posts it straight to storage through its
 * own policy. True when one was stored; a thumbnail is optional, so any failure only means none.
 */
export async function uploadThumbnail(file: File, key: string): Promise<boolean> {
  if (!hasThumbnail({ type: file.type, size: file.size })) return false;
  try {
    const blob = await drawThumbnail(file);
    if (!blob) return false;
    const type = blob.type as 'image/webp' | 'image/jpeg';
    await postToStorage(await postboxApi.signThumbnail(key, { size: blob.size, type }), blob);
    return true;
  } catch {
    return false;
  }
}
