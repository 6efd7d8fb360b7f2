import { useId, useState } from 'react';
import type { StoredFile } from '../../contract/api.ts';
import { useCreateLink } from '../hooks/files.ts';
import { CopyableUrl } from './CopyableUrl.tsx';
import { ErrorNotice } from './ErrorNotice.tsx';
import { ShareLinks } from './ShareLinks.tsx';
import { dateTime } from './dates.ts';

const EXPIRY_CHOICES = [
  { seconds: 15 * 60, label: '15 minutes' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 24 * 3600, label: '1 day' },
  { seconds: 7 * 24 * 3600, label: '7 days (the longest S3 allows)' },
];

/** A presigned download link with the chosen lifetime, shown with a one-click copy. */
export function SharePanel({ file }: { file: StoredFile }) {
  const [expiresIn, setExpiresIn] = useState(3600);
  const createLink = useCreateLink();
  const selectId = useId();
  const link = createLink.data;

  return (
    <div className="share" data-testid="share-panel">
      <p className="share__kind">
        <strong>Quick link</strong> straight to storage, up to 7 days. It cannot be revoked once sent.
      </p>
      <form
        className="share__form"
        onSubmit={(event) => {
          event.preventDefault();
          createLink.mutate({ key: file.key, expiresIn });
        }}
      >
        <label htmlFor={selectId}>Link valid for</label>
        <select id={selectId} value={expiresIn} onChange={(event) => setExpiresIn(Number(event.target.value))}>
          {EXPIRY_CHOICES.map((choice) => (
            <option key={choice.seconds} value={choice.seconds}>
              {choice.label}
            </option>
          ))}
        </select>
        <button type="submit" className="button button--primary" disabled={createLink.isPending}>
          {createLink.isPending ? 'Creating…' : link ? 'Create new link' : 'Create link'}
        </button>
      </form>
      {createLink.isError && <ErrorNotice error={createLink.error} />}
      {link && (
        <div className="share__result">
          <CopyableUrl key={link.url} url={link.url} label={`Download link for ${file.name}`} copyText="Copy link" />
          <p className="share__note">Anyone with this link can download the file until {dateTime.format(new Date(link.expiresAt))}.</p>
        </div>
      )}
      <ShareLinks file={file} />
    </div>
  );
}
