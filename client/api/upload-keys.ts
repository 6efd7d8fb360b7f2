/**
 * What the page can read from an upload's object key without asking the server. Keys are made by the
 * server (server/signing/object-keys.ts, which needs Node and stays out of the bundle):
 *
 *   uploads/<sort token>-<random>/<type>/<subtype>/<sanitized filename>
 *
 * The filename never contains a slash, so it is the last segment.
 */
export function describeUploadKey(key: string): { name: string; type: string | undefined } {
  const segments = key.split('/');
  const name = segments.at(-1) || key;
  const type = segments.length === 5 ? `${segments[2]}/${segments[3]}` : undefined;
  return { name, type };
}
