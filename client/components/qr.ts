import QRCode from 'qrcode';

/** Medium error correction and the standard 4-module quiet zone: prints and scans from a screen alike. */
const OPTIONS = { errorCorrectionLevel: 'M', margin: 4 } as const;

/** The link as a QR code in SVG, drawn here (no outside service). */
export const qrSvg = (text: string): Promise<string> => QRCode.toString(text, { ...OPTIONS, type: 'svg' });

/** The link as a 512-pixel PNG, as a data: URL (for "Download PNG"). */
export const qrPngDataUrl = (text: string): Promise<string> => QRCode.toDataURL(text, { ...OPTIONS, width: 512 });

export const svgDataUrl = (svg: string) => `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
