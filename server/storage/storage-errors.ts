import { AppError } from '../errors/app-error.ts';

/** Turns an SDK failure into our error: unreachable, refusing or failing storage is a 503 for the caller. */
export function storageUnavailable(err: unknown): AppError {
  if (err instanceof AppError) return err;
  return new AppError('storage_unavailable', 'The storage is unreachable or refused the request.', { cause: err });
}

export function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || (e?.$metadata?.httpStatusCode === 404 && e?.name !== 'NoSuchBucket');
}
