import { useState } from 'react';
import { formatBytes } from '../../server/http/format-bytes.ts';
import type { ResumableUpload } from '../api/multipart-upload.ts';
import { useDiscardUpload } from '../hooks/multipart-uploads.ts';
import { ConfirmDialog } from './ConfirmDialog.tsx';
import { ErrorNotice } from './ErrorNotice.tsx';
import { dateTime } from './dates.ts';

function InterruptedRow({ upload, onDiscarded }: { upload: ResumableUpload; onDiscarded: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const discard = useDiscardUpload();
  return (
    <li className="file" data-testid="interrupted-upload">
      <div className="file__main">
        <span className="file__name" title={upload.name} dir="auto">
          {upload.name}
        </span>
        <span className="file__meta">
          {formatBytes(upload.size)} · started {dateTime.format(new Date(upload.startedAt))}
        </span>
      </div>
      <div className="file__actions">
        <button type="button" className="button button--quiet" onClick={() => setConfirming(true)} aria-label={`Discard ${upload.name}`}>
          Discard
        </button>
      </div>
      {discard.isError && <ErrorNotice error={discard.error} />}
      {confirming && (
        <ConfirmDialog
          title="Discard this upload?"
          confirmLabel="Discard"
          busyLabel="Discarding…"
          busy={discard.isPending}
          onCancel={() => setConfirming(false)}
          onConfirm={() =>
            discard.mutate(
              { key: upload.key, uploadId: upload.uploadId },
              {
                onSuccess: onDiscarded,
                onSettled: () => setConfirming(false),
              },
            )
          }
        >
          <p>
            The parts of <bdi className="dialog__filename">{upload.name}</bdi> already sent are removed from storage. If it is still
            uploading in another tab, that upload stops.
          </p>
        </ConfirmDialog>
      )}
    </li>
  );
}

/** Big uploads this browser did not finish: choosing the same file continues from the parts storage has. */
export function InterruptedUploads({ uploads, onForget }: { uploads: ResumableUpload[]; onForget: (fingerprint: string) => void }) {
  if (uploads.length === 0) return null;
  return (
    <section className="uploads" aria-labelledby="interrupted-title">
      <h2 id="interrupted-title" className="section-title">
        Interrupted uploads
      </h2>
      <p className="uploads__intro">Choose the same file again to continue where it stopped: the parts already sent are kept.</p>
      <ul className="files" aria-label="Interrupted uploads">
        {uploads.map((upload) => (
          <InterruptedRow key={upload.fingerprint} upload={upload} onDiscarded={() => onForget(upload.fingerprint)} />
        ))}
      </ul>
    </section>
  );
}
