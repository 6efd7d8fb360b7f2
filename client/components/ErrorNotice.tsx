import { describeError } from '../api/errors.ts';

/**
 * `quiet`: a panel beside the file list that could not load. It says so politely (a status, not an
 * alert): when storage is down, the file list's alert is the one a screen reader should announce.
 */
export function ErrorNotice({ error, onRetry, quiet = false }: { error: unknown; onRetry?: () => void; quiet?: boolean }) {
  return (
    <div className="notice notice--error" role={quiet ? 'status' : 'alert'}>
      <p>{describeError(error)}</p>
      {onRetry && (
        <button type="button" className="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
