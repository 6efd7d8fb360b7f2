/**
 * Types a browser would render or run (HTML, SVG, XML, scripts). Opened from a shared link on the
 * storage's origin they could run script there, so they are stored and served as opaque bytes;
 * every download is an attachment anyway.
 */
const BROWSER_RENDERABLE = [
  /^text\/html$/,
  /^application\/xhtml\+xml$/,
  /^image\/svg\+xml$/,
  /^(text|application)\/xml$/,
  /\+xml$/,
  /^text\/xsl$/,
  /(java|ecma)script$/,
  /^application\/x-(java|ecma)script$/,
  /^multipart\//,
];

export function isBrowserRenderable(contentType: string): boolean {
  return BROWSER_RENDERABLE.some((pattern) => pattern.test(contentType));
}

/** The Content-Type storage keeps and serves: the declared one, unless a browser would render it. */
export function servedContentType(contentType: string): string {
  return isBrowserRenderable(contentType) ? 'application/octet-stream' : contentType;
}
