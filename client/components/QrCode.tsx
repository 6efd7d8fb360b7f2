import { useEffect, useState } from 'react';
import { qrPngDataUrl, qrSvg, svgDataUrl } from './qr.ts';

/** A share link's QR code, drawn in the browser, with downloads as SVG and PNG for printing. */
export function QrCode({ url }: { url: string }) {
  const [images, setImages] = useState<{ svg: string; png: string }>();
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let current = true;
    Promise.all([qrSvg(url), qrPngDataUrl(url)])
      .then(([svg, png]) => current && setImages({ svg: svgDataUrl(svg), png }))
      .catch(() => current && setFailed(true));
    return () => {
      current = false;
    };
  }, [url]);

  if (failed) return <p className="qr__error">The QR code could not be drawn.</p>;
  if (!images) return <p className="placeholder">Drawing the QR code…</p>;
  return (
    <figure className="qr" data-testid="qr-code">
      <img className="qr__image" src={images.svg} alt={`QR code of ${url}`} width={176} height={176} />
      <figcaption className="qr__actions">
        <a className="button button--small" href={images.png} download="postbox-link.png">
          Download PNG
        </a>
        <a className="button button--small" href={images.svg} download="postbox-link.svg">
          Download SVG
        </a>
      </figcaption>
    </figure>
  );
}
