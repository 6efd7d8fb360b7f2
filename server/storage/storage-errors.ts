import { AppError } from '../errors/app-error.ts';

/** Turns an SDK failure into our error: unreachable, refusing or failing storage is a 503 for the caller. */
export function storageUnavailable(err: unknown): AppError {
  if (err instanceof AppError) return err;
  return new AppError('storage_unavailable', 'The storage is unreachable or refused the request.', { cause: err });
}

/** `work`, its failure turned into our error (a 503 unless it already is one): the one wrapper for storage calls and signing. */
export function orUnavailable<T>(work: Promise<T>): Promise<T> {
  return work.catch((err: unknown) => {
    throw storageUnavailable(err);
  });
}

type SdkError = { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } } | null;

export function isNotFound(err: unknown): boolean {
  const e = err as SdkError;
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || (e?.$metadata?.httpStatusCode === 404 && e?.name !== 'NoSuchBucket');
}

/** S3 answers NoSuchUpload when the id is unknown, already completed or aborted, or belongs to another key. */
export function isNoSuchUpload(err: unknown): boolean {
  const e = err as SdkError;
  return e?.name === 'NoSuchUpload' || e?.Code === 'NoSuchUpload' || e?.$metadata?.httpStatusCode === 404;
}
