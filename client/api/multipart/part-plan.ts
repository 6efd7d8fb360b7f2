import { MULTIPART_MAX_PARTS, partCountOf, partLengthOf, type UploadedPart } from '../../../contract/api.ts';

/** One part of a file: bytes [start, end) go up as part `number` (1-based). */
export interface PlannedPart {
  number: number;
  start: number;
  end: number;
}

export const lengthOf = (part: PlannedPart) => part.end - part.start;

/**
 * The parts a file of `size` bytes is sent in: `partSize` each, the last one what is left. Uses
 * the contract's arithmetic, the same the server signs each part's length with.
 */
export function planParts(size: number, partSize: number): PlannedPart[] {
  if (!Number.isSafeInteger(size) || size < 0 || !Number.isSafeInteger(partSize) || partSize < 1) {
    throw new RangeError(`No part plan for ${size} bytes in parts of ${partSize}`);
  }
  const count = partCountOf(size, partSize);
  if (count > MULTIPART_MAX_PARTS) throw new RangeError(`${count} parts: storage takes at most ${MULTIPART_MAX_PARTS}`);
  return Array.from({ length: count }, (_, i) => {
    const start = i * partSize;
    return { number: i + 1, start, end: start + partLengthOf(size, partSize, i + 1) };
  });
}

/**
 * The parts storage lists that may be kept: in the plan and of the planned length. Their ETags are
 * still to be checked against the local bytes before they count as sent.
 */
export function candidatesToKeep(stored: readonly UploadedPart[], plan: readonly PlannedPart[]): Map<number, string> {
  const kept = new Map<number, string>();
  for (const part of stored) {
    const planned = plan[part.partNumber - 1];
    if (planned && part.size === lengthOf(planned)) kept.set(part.partNumber, part.etag);
  }
  return kept;
}

/** A simple part's ETag is the hex MD5 of its bytes, quoted. */
export const etagMatches = (etag: string, md5Hex: string) => etag.replace(/"/g, '').toLowerCase() === md5Hex;

/** A hash as S3's headers carry it (Content-MD5, x-amz-checksum-crc32): its bytes in base64. */
export const base64OfHex = (hex: string) => btoa(String.fromCharCode(...hex.match(/../g)!.map((h) => parseInt(h, 16))));
