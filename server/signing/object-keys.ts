import { randomBytes } from 'node:crypto';

/**
 * Object keys are made by the server, never by the client:
 *
 *   <space>uploads/<sort token>-<random>/<type>/<subtype>/<sanitized filename>
 *
 * where <space> is the owner's prefix (server/people/person.ts): '' for the local person,
 * `people/<id>/` for a person signed in with OIDC.
 * The sort token counts down from the largest Date, so S3's lexicographic listing returns
 * newest first and pages stay stable. Type and name live in the key so a listing needs no
 * request per file.
 */
export const UPLOAD_PREFIX = 'uploads/';

const MAX_DATE_MS = 8.64e15;
const SORT_TOKEN_LENGTH = 11; // MAX_DATE_MS in base 36 needs 11 digits
const RANDOM_BYTES = 8;

/** A type or subtype (RFC 6838's restricted-name), lower-cased. */
const TYPE_NAME = '[a-z0-9][a-z0-9!#$&^_.+-]{0,126}';
const CONTENT_TYPE = new RegExp(`^${TYPE_NAME}/${TYPE_NAME}$`);
// The name: what sanitizeFilename leaves (no control or format characters, no separators). A key
// with anything else was not made here, and storage may refuse it (a NUL gets 503, not 400).
const KEY = new RegExp(
  `^((?:people/[0-9a-f]{16,64}/)?)${UPLOAD_PREFIX}([0-9a-z]{${SORT_TOKEN_LENGTH}})-[0-9a-f]{${RANDOM_BYTES * 2}}/(${TYPE_NAME}/${TYPE_NAME})/([^/\\\\\\p{Cc}\\p{Cf}]+)$`,
  'u',
);

/** Lower-cases a content type and drops parameters; undefined when it is not a valid `type/subtype`. */
export function normalizeContentType(raw: string): string | undefined {
  const essence = raw.split(';')[0]!.trim().toLowerCase();
  return CONTENT_TYPE.test(essence) ? essence : undefined;
}

/** `name` must already be sanitized and `contentType` normalized; `space` is the owner's prefix (Person.space). */
export function newUploadKey(name: string, contentType: string, now = Date.now(), space = ''): string {
  const sortToken = (MAX_DATE_MS - now).toString(36).padStart(SORT_TOKEN_LENGTH, '0');
  return `${space}${UPLOAD_PREFIX}${sortToken}-${randomBytes(RANDOM_BYTES).toString('hex')}/${contentType}/${name}`;
}

export interface UploadKeyParts {
  /** The owner's prefix: '' (local person) or `people/<id>/`. */
  space: string;
  name: string;
  contentType: string;
  signedAt: Date;
}

/** Reads a key made by `newUploadKey`; undefined for anything else (so it cannot be signed or deleted). */
export function parseUploadKey(key: string): UploadKeyParts | undefined {
  const match = KEY.exec(key);
  if (!match) return undefined;
  const [, space, sortToken, contentType, name] = match as unknown as [string, string, string, string, string];
  // Names sanitizeFilename never makes: dots only (`.`/`..` are path segments), and `${`, which S3 substitutes in a POST form's key.
  if (/^\.+$/.test(name) || name.includes('${')) return undefined;
  return { space, name, contentType, signedAt: new Date(MAX_DATE_MS - parseInt(sortToken, 36)) };
}
