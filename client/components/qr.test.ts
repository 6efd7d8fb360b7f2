import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { qrPngDataUrl, qrSvg } from './qr.ts';

const decodePng = (dataUrl: string) => {
  const png = PNG.sync.read(Buffer.from(dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64'));
  return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data;
};

describe('QR codes of share links', () => {
  it.each(['https://postbox.example.com/s/AbCdEfGhIjKlMnOpQrStUv', 'http://127.0.0.1:8080/s/-_-_-_-_-_-_-_-_-_-_-_'])(
    'the PNG decodes to %s',
    async (url) => {
      expect(decodePng(await qrPngDataUrl(url))).toBe(url);
    },
  );

  it('draws the same code as SVG, with nothing but shapes', async () => {
    const svg = await qrSvg('https://postbox.example.com/s/AbCdEfGhIjKlMnOpQrStUv');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).not.toMatch(/<script|<foreignObject|href=|on\w+=/i);
  });
});
