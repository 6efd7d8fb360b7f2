import { ApiError, describeError } from '../api/errors.ts';

/**
 * `quiet`: a panel beside the file list that could not load. It says so politely (a status, not an
 * alert), and offers no "Try again" when storage is down: the file list's alert and button are the
 * ones to act on, and everything that failed is asked again when storage is back (hooks/status.ts).
 */
export function ErrorNotice({ error, onRetry, quiet = false }: { error: unknown; onRetry?: () => void; quiet?: boolean }) {
  const storageDown = error instanceof ApiError && error.code === 'storage_unavailable';
  return (
    <div className="notice notice--error" role={quiet ? 'status' : 'alert'}>
      <p>{describeError(error)}</p>
      {onRetry && !(quiet && storageDown) && (
        <button type="button" className="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
