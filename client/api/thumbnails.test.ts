import { describe, expect, it } from 'vitest';
import { thumbnailSize } from './thumbnails.ts';

describe('thumbnailSize', () => {
  it('fits the longer side to 320 px and keeps the aspect ratio', () => {
    expect(thumbnailSize(4000, 3000)).toEqual({ width: 320, height: 240 });
    expect(thumbnailSize(3000, 4000)).toEqual({ width: 240, height: 320 });
    expect(thumbnailSize(1000, 1000)).toEqual({ width: 320, height: 320 });
  });

  it('never enlarges a small image', () => {
    expect(thumbnailSize(16, 16)).toEqual({ width: 16, height: 16 });
    expect(thumbnailSize(320, 100)).toEqual({ width: 320, height: 100 });
  });

  it('keeps at least a pixel on the short side of a very long image', () => {
    expect(thumbnailSize(100000, 10)).toEqual({ width: 320, height: 1 });
  });

  it('has no size for an image without pixels', () => {
    for (const [w, h] of [
      [0, 10],
      [10, 0],
      [NaN, 5],
      [Infinity, 5],
      [-1, 5],
    ])
      expect(thumbnailSize(w!, h!)).toBeUndefined();
  });
});
