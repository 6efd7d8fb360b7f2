import { describe, expect, it } from 'vitest';
import { spaceFor } from '../people/person.ts';
import { newUploadKey } from './object-keys.ts';
import { thumbnailKeyFor } from './thumbnails.ts';

describe('thumbnailKeyFor', () => {
  it("derives the key from the file's id, in the owner's space", () => {
    const local = newUploadKey('a.png', 'image/png', 1_700_000_000_000);
    const id = local.split('/')[1];
    expect(thumbnailKeyFor(local)).toBe(`thumbs/${id}`);
    const space = spaceFor('0123456789abcdef0123456789abcdef');
    const theirs = newUploadKey('a.png', 'image/png', 1_700_000_000_000, space);
    expect(thumbnailKeyFor(theirs)).toBe(`${space}thumbs/${theirs.split('/')[3]}`);
  });

  it('refuses anything that is not an upload key', () => {
    for (const key of ['thumbs/x', '../uploads/x', 'uploads/abc/image/png/a.png', '']) expect(thumbnailKeyFor(key)).toBeUndefined();
  });
});
