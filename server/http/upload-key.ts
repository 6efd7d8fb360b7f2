import type { Response } from 'express';
import { AppError } from '../errors/app-error.ts';
import { LOCAL_PERSON, type Person } from '../people/person.ts';
import { parseUploadKey, type UploadKeyParts } from '../signing/object-keys.ts';

/**
 * A key from a request's path or body. Only keys the server made can be signed, shared, completed
 * or deleted, so nothing else in the bucket (shares/ included) is reachable: anything else is 400.
 */
export function requireUploadKey(key: string): UploadKeyParts {
  const parts = parseUploadKey(key);
  if (!parts) throw new AppError('invalid_request', 'That is not the key of an uploaded file.');
  return parts;
}

/** The words of every "no such file" answer (UploadsStore, ShareService): another person's key gets exactly them. */
export const NO_SUCH_FILE = 'That file does not exist (any more).';

/** Who the request acts for: set by sign-in (Access.requireSignIn); the local person when access is open. */
export function personOf(res: Response): Person {
  return (res.locals as { person?: Person }).person ?? LOCAL_PERSON;
}

export function setPerson(res: Response, person: Person): void {
  (res.locals as { person?: Person }).person = person;
}

/**
 * A key in the requesting person's own space. Another person's key gets the answer a key that does
 * not exist gets, so keys leak nothing about other people's files.
 */
export function requireOwnKey(res: Response, key: string): UploadKeyParts {
  const parts = requireUploadKey(key);
  if (parts.space !== personOf(res).space) throw new AppError('not_found', NO_SUCH_FILE);
  return parts;
}
