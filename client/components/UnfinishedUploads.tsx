import { useState } from 'react';
import type { StaleUploads } from '../../server/http/contract.ts';
import { useDiscardUpload, useUnfinishedUploads } from '../hooks/multipart-uploads.ts';
import { ConfirmDialog } from './ConfirmDialog.tsx';
import { ErrorNotice } from './ErrorNotice.tsx';
import { dateTime } from './dates.ts';

type StaleUpload = StaleUploads['uploads'][number];

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** "3 days ago", "5 hours ago", "now". */
function ago(date: Date, now = Date.now()): string {
  const seconds = Math.round((date.getTime() - now) / 1000);
  if (seconds > -60) return relative.format(0, 'second');
  if (seconds > -3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (seconds > -86_400) return relative.format(Math.round(seconds / 3600), 'hour');
  return relative.format(Math.round(seconds / 86_400), 'day');
}

function Started({ at }: { at: string }) {
  const date = new Date(at);
  return (
    <>
      started <time dateTime={at}>{dateTime.format(date)}</time> ({ago(date)})
    </>
  );
}

function UnfinishedRow({ upload }: { upload: StaleUpload }) {
  const [confirming, setConfirming] = useState(false);
  const discard = useDiscardUpload();
  const { name, type } = upload;

  return (
    <li className="file" data-testid="unfinished-upload">
      <div className="file__main">
        <span className="file__name" title={name} dir="auto">
          {name}
        </span>
        <span className="file__meta">
          {type} ·{' '}
          <Started at={upload.initiatedAt} />
        </span>
      </div>
      <div className="file__actions">
        <button type="button" className="button button--quiet" onClick={() => setConfirming(true)} aria-label={`Discard ${name}`}>
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
          onConfirm={() => discard.mutate({ key: upload.key, uploadId: upload.uploadId }, { onSettled: () => setConfirming(false) })}
        >
          <p>
            The parts of <bdi className="dialog__filename">{name}</bdi> already sent are removed from storage. To have this file
            here, upload it again from the start.
          </p>
        </ConfirmDialog>
      )}
    </li>
  );
}

/**
 * Big uploads left unfinished (a closed tab, a lost connection): their parts take space in storage
 * until they are aborted. Shows nothing when there are none, or when the list cannot be read (the
 * file list already says why).
 */
export function UnfinishedUploads() {
  const unfinished = useUnfinishedUploads();
  const uploads = unfinished.data?.uploads ?? [];
  if (uploads.length === 0) return null;

  return (
    <section className="card" aria-labelledby="unfinished-title">
      <h2 id="unfinished-title" className="card__title">
        Unfinished uploads
      </h2>
      <p className="card__intro">
        These big uploads were started more than a day ago and never finished; the parts already sent still take space in storage.
      </p>
      <ul className="files" aria-label="Unfinished uploads">
        {uploads.map((upload) => (
          <UnfinishedRow key={`${upload.key}\n${upload.uploadId}`} upload={upload} />
        ))}
      </ul>
    </section>
  );
}
