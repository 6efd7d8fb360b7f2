import { describe, expect, it } from 'vitest';
import { isBrowserRenderable, servedContentType } from './content-types.ts';

describe('servedContentType', () => {
  it.each([
    'text/html',
    'application/xhtml+xml',
    'image/svg+xml',
    'text/xml',
    'application/xml',
    'application/rss+xml',
    'text/xsl',
    'text/javascript',
    'application/javascript',
    'application/x-javascript',
    'application/ecmascript',
    'multipart/x-mixed-replace',
  ])('serves %s, which a browser would render, as opaque bytes', (type) => {
    expect(isBrowserRenderable(type)).toBe(true);
    expect(servedContentType(type)).toBe('application/octet-stream');
  });

  it.each(['image/png', 'application/pdf', 'text/plain', 'video/mp4', 'application/json', 'text/csv'])('keeps %s', (type) => {
    expect(servedContentType(type)).toBe(type);
  });
});
