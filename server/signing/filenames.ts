import { create as contentDisposition } from 'content-disposition';

/** Longest name kept, in UTF-8 bytes: leaves room for the key prefix and for filesystem-backed stores. */
export const MAX_FILENAME_BYTES = 200;
const FALLBACK_NAME = 'file';

const utf8Length = (s: string) => Buffer.byteLength(s, 'utf8');

/** Cuts a string to at most `maxBytes` of UTF-8 without splitting a character. */
function truncateUtf8(s: string, maxBytes: number): string {
  let out = '';
  for (const ch of s) {
    if (utf8Length(out + ch) > maxBytes) break;
    out += ch;
  }
  return out;
}

/**
 * Makes a user-supplied filename safe to store and show: well-formed Unicode, NFC-normalised, without control,
 * bidirectional-override or noncharacters, without path separators, without `${` (S3 replaces `${filename}` in a
 * POST form's key, and a key ending in it becomes a prefix policy), trimmed, and capped in length
 * (keeping the extension when it can).
 */
export function sanitizeFilename(raw: string): string {
  const cleaned = raw
    .toWellFormed() // lone surrogates (possible in JSON) become U+FFFD
    .normalize('NFC')
    .replace(/\s+/gu, ' ')
    // Noncharacters too: XML 1.0, which S3's listings are written in, forbids U+FFFE and U+FFFF.
    .replace(/[\p{Cc}\p{Cf}\p{Noncharacter_Code_Point}]/gu, '')
    // Again: a character removed between two spaces leaves them side by side.
    .replace(/ {2,}/g, ' ')
    .replace(/[/\\]/g, '_')
    // Last, so that no removal above can join a `$` and a `{`.
    .replaceAll('${', '_{')
    .trim();
  if (cleaned === '' || /^\.+$/.test(cleaned)) return FALLBACK_NAME;
  if (utf8Length(cleaned) <= MAX_FILENAME_BYTES) return cleaned;

  const dot = cleaned.lastIndexOf('.');
  const extension = dot > 0 && cleaned.length - dot <= 16 ? cleaned.slice(dot) : '';
  const stem = truncateUtf8(cleaned.slice(0, cleaned.length - extension.length), MAX_FILENAME_BYTES - utf8Length(extension));
  return stem.trimEnd() + extension;
}

/** `attachment; filename="ascii fallback"; filename*=UTF-8''…` (RFC 6266 with RFC 5987 encoding). */
export function attachmentDisposition(filename: string): string {
  return contentDisposition(filename, { type: 'attachment' });
}
