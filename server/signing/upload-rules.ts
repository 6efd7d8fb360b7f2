import { AppError } from '../errors/app-error.ts';
import { fileTooLargeMessage, isTypeAccepted, UploadRequest } from '../../contract/api.ts';
import { servedContentType } from './content-types.ts';
import { sanitizeFilename } from './filenames.ts';
import { newUploadKey, normalizeContentType } from './object-keys.ts';

export interface UploadRules {
  maxBytes: number;
  allowedTypes: string[];
  deniedTypes: string[];
}

/** An upload the rules allow, with everything the server decided for it. */
export interface AcceptedUpload {
  size: number;
  /** Sanitized. */
  filename: string;
  /** Normalized; the key keeps it, so the listing shows what the file is. */
  declaredType: string;
  /** What storage keeps and serves: the declared type unless a browser would render it. */
  storedType: string;
  /** Made here, never by the client. */
  key: string;
}

export const fileTooLarge = (maxBytes: number) => new AppError('file_too_large', fileTooLargeMessage(maxBytes));

/**
 * The one reading of `{ name, size, type }` for a POST policy and a multipart upload alike: the
 * shape, the type (valid, allowed, not denied), the size limit, the filename and the key (in the
 * owner's `space`).
 */
export function acceptUpload(body: unknown, rules: UploadRules, space = ''): AcceptedUpload {
  const request = UploadRequest.parse(body);
  const declaredType = normalizeContentType(request.type || 'application/octet-stream');
  if (!declaredType) throw new AppError('invalid_request', 'type must be a content type such as image/png.');
  if (!isTypeAccepted(declaredType, rules)) throw new AppError('unsupported_type', `Files of type ${declaredType} are not accepted here.`);
  if (request.size > rules.maxBytes) throw fileTooLarge(rules.maxBytes);
  const filename = sanitizeFilename(request.name);
  return {
    size: request.size,
    filename,
    declaredType,
    storedType: servedContentType(declaredType),
    key: newUploadKey(filename, declaredType, Date.now(), space),
  };
}
