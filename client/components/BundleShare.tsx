import { useState } from 'react';
import { SHARE_BUNDLE_MAX_FILES, type ShareLink, type StoredFile } from '../../contract/api.ts';
import { useCreateBundle } from '../hooks/shares.ts';
import { CopyableUrl } from './CopyableUrl.tsx';
import { QrCode } from './QrCode.tsx';
import { ShareOptionsForm } from './ShareLinks.tsx';

/** The bar over the file list: select all on this page, how many are selected, Share selected. */
export function SelectionBar({
  files,
  selected,
  onSelectAll,
  onClear,
}: {
  files: readonly StoredFile[];
  selected: readonly StoredFile[];
  onSelectAll: (all: boolean) => void;
  onClear: () => void;
}) {
  const [sharing, setSharing] = useState(false);
  const all = selected.length === files.length && files.length > 0;
  const tooMany = selected.length > SHARE_BUNDLE_MAX_FILES;
  return (
    <div className="selection" data-testid="selection-bar">
      <div className="selection__bar">
        <label className="selection__all">
          <input
            type="checkbox"
            checked={all}
            ref={(input) => {
              if (input) input.indeterminate = selected.length > 0 && !all;
            }}
            onChange={(event) => onSelectAll(event.target.checked)}
          />
          Select all on this page
        </label>
        <span className="selection__count" aria-live="polite">
          {selected.length === 0 ? 'Select files to share them in one link' : `${selected.length} selected`}
        </span>
        {selected.length > 0 && (
          <>
            <button
              type="button"
              className="button button--primary"
              disabled={tooMany}
              aria-expanded={sharing}
              onClick={() => setSharing(!sharing)}
            >
              {sharing ? 'Close' : 'Share selected'}
            </button>
            <button type="button" className="button button--quiet" onClick={onClear}>
              Clear selection
            </button>
          </>
        )}
      </div>
      {tooMany && <p className="selection__hint">One link holds at most {SHARE_BUNDLE_MAX_FILES.toLocaleString()} files.</p>}
      {sharing && selected.length > 0 && !tooMany && <BundlePanel files={selected} onDone={() => setSharing(false)} />}
    </div>
  );
}

/** One share link for the selected files: the usual options, then the link and its QR code. */
function BundlePanel({ files, onDone }: { files: readonly StoredFile[]; onDone: () => void }) {
  const createBundle = useCreateBundle();
  const [link, setLink] = useState<ShareLink>();
  const names =
    files
      .slice(0, 3)
      .map((file) => file.name)
      .join(', ') + (files.length > 3 ? ` and ${files.length - 3} more` : '');
  return (
    <div className="share bundle" data-testid="bundle-panel">
      <p className="share__kind">
        <strong>One link for {files.length === 1 ? '1 file' : `${files.length} files`}</strong>: <bdi>{names}</bdi>. The recipient sees
        every file, downloads each or all of them as a zip; a visit counts as one download.
      </p>
      {link ? (
        <div className="share__result">
          <CopyableUrl key={link.url} url={link.url} label={`Share link for ${files.length} files`} copyText="Copy link" />
          <QrCode url={link.url} />
          <button type="button" className="button" onClick={onDone}>
            Done
          </button>
        </div>
      ) : (
        <ShareOptionsForm
          label={`New share link for ${files.length} files`}
          create={(request) => createBundle.mutate({ ...request, keys: files.map((file) => file.key) }, { onSuccess: setLink })}
          pending={createBundle.isPending}
          error={createBundle.isError ? createBundle.error : undefined}
          onCancel={onDone}
        />
      )}
    </div>
  );
}
