import { useState, type ReactNode } from 'react';
import type { MultipartRef } from '../../contract/api.ts';
import { useDiscardUpload } from '../hooks/multipart-uploads.ts';
import { ConfirmDialog } from './ConfirmDialog.tsx';
import { ErrorNotice } from './ErrorNotice.tsx';

/** A big upload that was not finished, with a Discard that (once confirmed) aborts it on storage. */
export function DiscardableUploadRow(props: {
  testId: string;
  name: string;
  meta: ReactNode;
  upload: MultipartRef;
  /** The dialog's second sentence: what else discarding means here. */
  consequence: string;
}) {
  const [confirming, setConfirming] = useState(false);
  const discard = useDiscardUpload();
  const { name } = props;

  return (
    <li className="file" data-testid={props.testId}>
      <div className="file__main">
        <span className="file__name" title={name} dir="auto">
          {name}
        </span>
        <span className="file__meta">{props.meta}</span>
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
          onConfirm={() =>
            discard.mutate({ key: props.upload.key, uploadId: props.upload.uploadId }, { onSettled: () => setConfirming(false) })
          }
        >
          <p>
            The parts of <bdi className="dialog__filename">{name}</bdi> already sent are removed from storage. {props.consequence}
          </p>
        </ConfirmDialog>
      )}
    </li>
  );
}
