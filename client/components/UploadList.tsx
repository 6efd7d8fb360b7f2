import { useCallback, useEffect, useRef, useState } from 'react';
import { formatBytes } from '../../contract/api.ts';
import { ApiError, describeError } from '../api/errors.ts';
import { MAX_ATTEMPTS } from '../api/multipart-upload.ts';
import type { Upload } from '../hooks/use-uploads.ts';
import { ConfirmDialog } from './ConfirmDialog.tsx';
import { PresignedPostForm } from './PresignedPostForm.tsx';
import { ProgressBar } from './ProgressBar.tsx';

interface UploadListProps {
  uploads: Upload[];
  onCancel: (id: string) => void;
  onPause: (id: string) => void;
  onRetry: (upload: Upload) => void;
  onDismiss: (ids: string[]) => void;
  /** An upload's presigned form is mounted: send it. */
  onFormReady: (id: string, form: HTMLFormElement) => void;
}

const finished = (u: Upload) => u.phase !== 'signing' && u.phase !== 'uploading' && u.phase !== 'paused';

/** Speed of this attempt (bytes per second), once there is enough to measure. */
function speedOf(upload: Upload, now = Date.now()): number | undefined {
  if (upload.startedAt === undefined) return undefined;
  const seconds = (now - upload.startedAt) / 1000;
  const bytes = upload.loaded - (upload.startLoaded ?? 0);
  return seconds >= 0.5 && bytes > 0 ? bytes / seconds : undefined;
}

function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

const percentOf = (upload: Upload) => (upload.file.size ? Math.floor((upload.loaded / upload.file.size) * 100) : 100);

/** A big upload that failed keeps its parts on storage (unless storage lost the upload): Retry goes on. */
function failedText(upload: Upload): string {
  const error = upload.error;
  const kept =
    upload.multipart &&
    upload.loaded > 0 &&
    error instanceof ApiError &&
    error.storageCode !== 'NoSuchUpload' &&
    !['not_found', 'cancelled', 'file_too_large', 'unsupported_type'].includes(error.code);
  if (!kept) return describeError(error);
  const reason = ['upload_failed', 'network_error'].includes(error.code) ? 'The connection broke during the upload.' : describeError(error);
  return `${reason} ${percentOf(upload)}% is kept on storage: Retry goes on from there.`;
}

function statusText(upload: Upload): string {
  switch (upload.phase) {
    case 'signing':
      return upload.multipart && upload.loaded > 0 ? `Resuming at ${percentOf(upload)}%…` : 'Preparing…';
    case 'uploading': {
      const percent = percentOf(upload);
      const text = `${percent}% · ${formatBytes(upload.loaded)} of ${formatBytes(upload.file.size)}`;
      if (upload.retryAttempt)
        return `${text} · connection trouble: sending a part again (attempt ${upload.retryAttempt} of ${MAX_ATTEMPTS})…`;
      const speed = speedOf(upload);
      if (!speed) return text;
      return `${text} · ${formatBytes(speed)}/s · ${formatDuration((upload.file.size - upload.loaded) / speed)} left`;
    }
    case 'paused': {
      // Parts on their way when Pause was pressed are dropped, so this can be less than the bar showed.
      const percent = percentOf(upload);
      return `Paused · ${percent}% kept (${formatBytes(upload.loaded)} of ${formatBytes(upload.file.size)}); parts that were on their way start again on Resume`;
    }
    case 'done':
      return `Uploaded · ${formatBytes(upload.file.size)}`;
    case 'failed':
      return failedText(upload);
    default:
      return describeError(upload.error);
  }
}

/** Failures interrupt; done and paused are said politely; running progress is not read out on every tick. */
function statusRole(upload: Upload): 'alert' | 'status' | undefined {
  if (upload.phase === 'failed' || upload.phase === 'rejected') return 'alert';
  return upload.phase === 'done' || upload.phase === 'paused' ? 'status' : undefined;
}

type RowAction = 'pause' | 'resume' | 'cancel' | 'retry';
/** Which button takes focus when the one pressed goes away with the phase it belonged to. */
const FOCUS_AFTER: Record<RowAction, string> = { pause: 'resume', resume: 'pause', cancel: 'retry', retry: 'cancel' };

interface RowButtonProps {
  /** Marks the button, so that focus can move to its counterpart (FOCUS_AFTER); Cancel is also styled as such. */
  action?: RowAction;
  /** What the button says; read out with the file's name ("Pause report.pdf"). */
  label: string;
  name: string;
  quiet?: boolean;
  onClick: () => void;
}

function RowButton({ action, label, name, quiet = false, onClick }: RowButtonProps) {
  const className = `button${quiet ? ' button--quiet' : ''}${action === 'cancel' ? ' button--cancel' : ''}`;
  return (
    <button type="button" className={className} data-action={action} aria-label={`${label} ${name}`} onClick={onClick}>
      {label}
    </button>
  );
}

function UploadRow({ upload, onCancel, onPause, onRetry, onDismiss, onFormReady }: Omit<UploadListProps, 'uploads'> & { upload: Upload }) {
  const [confirmingCancel, setConfirmingCancel] = useState(false);
  const actions = useRef<HTMLDivElement>(null);
  const pressed = useRef<RowAction | undefined>(undefined);
  const name = upload.file.name;
  const id = upload.id;
  const formReady = useCallback((form: HTMLFormElement) => onFormReady(id, form), [onFormReady, id]);

  // The button pressed is gone once the phase changes: focus its counterpart, not the page.
  useEffect(() => {
    const action = pressed.current;
    if (!action) return;
    const next = actions.current?.querySelector<HTMLButtonElement>(`[data-action="${FOCUS_AFTER[action]}"]`);
    if (next && document.activeElement === document.body) {
      next.focus();
      pressed.current = undefined;
    }
  }, [upload.phase]);
  // Called from click handlers only: the effect above reads `pressed` once the phase has changed.
  const press = (action: RowAction, run: () => void) => {
    pressed.current = action;
    run();
  };
  const cancel = () =>
    press('cancel', () => {
      setConfirmingCancel(false);
      onCancel(upload.id);
    });

  return (
    <li className={`upload upload--${upload.phase}`} data-testid="upload">
      <div className="upload__main">
        <span className="upload__name" dir="auto">
          {name}
        </span>
        <span className="upload__status" role={statusRole(upload)}>
          {statusText(upload)}
        </span>
      </div>
      {upload.phase !== 'rejected' && (
        <ProgressBar
          value={upload.phase === 'done' ? upload.file.size : upload.loaded}
          max={upload.file.size || 1}
          label={`Upload of ${name}`}
          tone={upload.phase === 'done' ? 'success' : upload.phase === 'uploading' || upload.phase === 'signing' ? 'active' : 'muted'}
        />
      )}
      <div className="upload__actions" ref={actions}>
        {upload.multipart && upload.phase === 'uploading' && (
          <RowButton action="pause" label="Pause" name={name} quiet onClick={() => press('pause', () => onPause(upload.id))} />
        )}
        {upload.phase === 'paused' && (
          <RowButton action="resume" label="Resume" name={name} onClick={() => press('resume', () => onRetry(upload))} />
        )}
        {!finished(upload) && (
          <RowButton
            action="cancel"
            label="Cancel"
            name={name}
            quiet
            // What a big upload has sent is deleted from storage on Cancel: ask first.
            onClick={upload.multipart && upload.loaded > 0 ? () => setConfirmingCancel(true) : cancel}
          />
        )}
        {(upload.phase === 'failed' || upload.phase === 'cancelled') && (
          <RowButton action="retry" label="Retry" name={name} onClick={() => press('retry', () => onRetry(upload))} />
        )}
        {finished(upload) && <RowButton label="Dismiss" name={name} quiet onClick={() => onDismiss([upload.id])} />}
      </div>
      {confirmingCancel && !finished(upload) && (
        <ConfirmDialog
          title="Cancel this upload?"
          confirmLabel="Cancel upload"
          dismissLabel="Keep uploading"
          onCancel={() => setConfirmingCancel(false)}
          onConfirm={cancel}
        >
          <p>
            What was sent of <bdi className="dialog__filename">{name}</bdi> ({formatBytes(upload.loaded)}) is deleted from storage: it would
            start over from the beginning. {upload.phase === 'uploading' ? 'To stop for now and go on later, use Pause.' : ''}
          </p>
        </ConfirmDialog>
      )}
      {upload.policy && upload.phase === 'uploading' && <PresignedPostForm policy={upload.policy} file={upload.file} onReady={formReady} />}
    </li>
  );
}

/** Past this many uploaded files, they fold into one line: the list of files below is where they are. */
const UPLOADED_SHOWN = 5;

export function UploadList({ uploads, ...actions }: UploadListProps) {
  const [showAllUploaded, setShowAllUploaded] = useState(false);
  if (uploads.length === 0) return null;
  const finishedIds = uploads.filter(finished).map((u) => u.id);
  const uploaded = uploads.filter((u) => u.phase === 'done');
  const folded = !showAllUploaded && uploaded.length > UPLOADED_SHOWN;
  const shown = folded ? uploads.filter((u) => u.phase !== 'done') : uploads;
  return (
    <section className="uploads" aria-label="Uploads">
      <div className="uploads__header">
        <h2 className="section-title">Uploads</h2>
        {finishedIds.length > 0 && (
          <button type="button" className="button button--quiet" onClick={() => actions.onDismiss(finishedIds)}>
            Clear finished
          </button>
        )}
      </div>
      <ul className="uploads__list">
        {shown.map((upload) => (
          <UploadRow key={upload.id} upload={upload} {...actions} />
        ))}
      </ul>
      {uploaded.length > UPLOADED_SHOWN && (
        <p className="uploads__folded">
          {folded ? `${uploaded.length} files uploaded.` : null}{' '}
          <button type="button" className="button button--quiet" aria-expanded={!folded} onClick={() => setShowAllUploaded(folded)}>
            {folded ? 'Show them' : `Fold the ${uploaded.length} uploaded files`}
          </button>
        </p>
      )}
    </section>
  );
}
