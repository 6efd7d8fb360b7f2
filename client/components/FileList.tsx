import { useEffect, useRef, useState } from 'react';
import { type StoredFile, formatBytes, hasThumbnail, previewKindOf } from '../../contract/api.ts';
import { useDeleteFile, useFiles, useThumbnails } from '../hooks/files.ts';
import { useFileRequests } from '../hooks/requests.ts';
import { SelectionBar } from './BundleShare.tsx';
import { ConfirmDialog } from './ConfirmDialog.tsx';
import { ErrorNotice } from './ErrorNotice.tsx';
import { FilePreview } from './FilePreview.tsx';
import { SharePanel } from './SharePanel.tsx';
import { dateTime } from './dates.ts';

/** Where a file came from when a request link brought it: the link's note and the visitor's name. */
type Via = { note: string | null; visitorName: string | null };

function FileRow({
  file,
  via,
  thumbnail,
  onDeleting,
  selected,
  onSelect,
}: {
  file: StoredFile;
  via?: Via;
  /** An inline URL of its thumbnail, which may not exist (then the image is hidden). */
  thumbnail?: string;
  /**
   * The delete was confirmed (`failed`: it did not happen). Told before the request, not after: the
   * row is gone, its callbacks with it, as soon as the list is fetched again after the delete.
   */
  onDeleting: (failed?: boolean) => void;
  selected: boolean;
  /** `range`: shift was held (select from the last one clicked to this one). */
  onSelect: (range: boolean) => void;
}) {
  const [sharing, setSharing] = useState(false);
  const [previewing, setPreviewing] = useState(false);
  const [thumbnailFailed, setThumbnailFailed] = useState<string>();
  const [confirming, setConfirming] = useState(false);
  const deleteFile = useDeleteFile();

  return (
    <li className={`file${selected ? ' file--selected' : ''}`} data-testid="file-row" data-key={file.key}>
      <input
        type="checkbox"
        className="file__select"
        checked={selected}
        aria-label={`Select ${file.name}`}
        onChange={() => undefined}
        onClick={(event) => onSelect(event.shiftKey)}
      />
      <div className="file__main">
        {thumbnail && thumbnailFailed !== thumbnail && (
          <img
            className="file__thumbnail"
            src={thumbnail}
            alt=""
            data-testid="file-thumbnail"
            onError={() => setThumbnailFailed(thumbnail)}
          />
        )}
        <span className="file__name" title={file.name} dir="auto">
          {file.name}
        </span>
        <span className="file__meta">
          {formatBytes(file.size)} · {file.type} · {dateTime.format(new Date(file.uploadedAt))}
        </span>
        {via && (
          <span className="file__via" data-testid="file-via">
            Received through “{via.note ?? 'a request link'}”
            {via.visitorName && (
              <>
                {' '}
                from <bdi>{via.visitorName}</bdi>
              </>
            )}
          </span>
        )}
      </div>
      <div className="file__actions">
        {previewKindOf(file.type) !== undefined && (
          <button
            type="button"
            className="button"
            aria-expanded={previewing}
            aria-label={`${previewing ? 'Close the preview of' : 'Preview'} ${file.name}`}
            onClick={() => setPreviewing(!previewing)}
          >
            {previewing ? 'Close preview' : 'Preview'}
          </button>
        )}
        <button
          type="button"
          className="button"
          aria-expanded={sharing}
          aria-label={`${sharing ? 'Close sharing of' : 'Share'} ${file.name}`}
          onClick={() => setSharing(!sharing)}
        >
          {sharing ? 'Close sharing' : 'Share'}
        </button>
        <button type="button" className="button button--quiet" onClick={() => setConfirming(true)} aria-label={`Delete ${file.name}`}>
          Delete
        </button>
      </div>
      {previewing && <FilePreview file={file} />}
      {sharing && <SharePanel file={file} />}
      {deleteFile.isError && <ErrorNotice error={deleteFile.error} />}
      {confirming && (
        <ConfirmDialog
          title="Delete this file?"
          confirmLabel="Delete"
          busy={deleteFile.isPending}
          onCancel={() => setConfirming(false)}
          onConfirm={() => {
            onDeleting();
            deleteFile.mutate(file.key, {
              onError: () => onDeleting(true),
              onSettled: () => setConfirming(false),
            });
          }}
        >
          <p>
            <bdi className="dialog__filename">{file.name}</bdi> will be removed from storage. Links already shared stop working.
          </p>
        </ConfirmDialog>
      )}
    </li>
  );
}

export function FileList() {
  const files = useFiles();
  // One list of the person's request links marks every received file: no request per file.
  const requests = useFileRequests();
  const via = new Map<string, Via>(
    (requests.data?.requests ?? []).flatMap((r) => r.received.map((f) => [f.key, { note: r.note, visitorName: f.visitorName }] as const)),
  );
  const list = useRef<HTMLUListElement>(null);
  const [selectedKeys, setSelectedKeys] = useState<ReadonlySet<string>>(new Set());
  // The row clicked last: shift-click selects (or clears) everything from it to the row clicked.
  const anchor = useRef<number | undefined>(undefined);
  // The row whose Share button gets focus once the list has changed: after a delete, the row that
  // took the deleted one's place; after "Show older files", the first older one (the buttons
  // pressed are gone, and focus would fall to the page). `gone`: the deleted file's key, whose row may
  // still be shown until the list is fetched again (the delete's callbacks and the refetch can come in
  // either order): focus waits for the list without it.
  const [focusTarget, setFocusTarget] = useState<{ index: number; gone?: string }>();
  const rowCount = files.data?.pages.reduce((count, page) => count + page.files.length, 0) ?? 0;
  const thumbnails = useThumbnails((files.data?.pages ?? []).flatMap((page) => page.files.filter(hasThumbnail).map((file) => file.key)));
  useEffect(() => {
    const rows = list.current?.children;
    // Only when focus was lost: never pull it away from wherever the user has gone since.
    if (!focusTarget || !rows?.length || document.activeElement !== document.body) return;
    const row = rows[Math.min(focusTarget.index, rows.length - 1)] as HTMLElement | undefined;
    if (focusTarget.gone !== undefined && row?.dataset.key === focusTarget.gone) return;
    setFocusTarget(undefined);
    row?.querySelector('button')?.focus();
  }, [rowCount, focusTarget]);

  if (files.isPending) {
    return (
      <p className="placeholder" aria-busy="true">
        Loading files…
      </p>
    );
  }
  if (files.isLoadingError) return <ErrorNotice error={files.error} onRetry={() => files.refetch()} />;

  const all = files.data.pages.flatMap((page) => page.files);
  const selected = all.filter((file) => selectedKeys.has(file.key)); // deleted files drop out by themselves
  const select = (index: number, range: boolean) => {
    const on = !selectedKeys.has(all[index]!.key);
    const from = range && anchor.current !== undefined ? Math.min(anchor.current, index) : index;
    const to = range && anchor.current !== undefined ? Math.max(anchor.current, index) : index;
    const next = new Set(selectedKeys);
    for (const file of all.slice(from, to + 1)) {
      if (on) next.add(file.key);
      else next.delete(file.key);
    }
    anchor.current = index;
    setSelectedKeys(next);
  };
  if (all.length === 0) {
    return (
      <div className="empty">
        <p className="empty__title">No files yet</p>
        <p>Files you upload appear here, newest first, ready to share.</p>
      </div>
    );
  }
  return (
    <>
      <SelectionBar
        files={all}
        selected={selected}
        onSelectAll={(on) => setSelectedKeys(new Set(on ? all.map((file) => file.key) : []))}
        onClear={() => setSelectedKeys(new Set())}
      />
      <ul className="files" aria-label="Uploaded files" ref={list}>
        {all.map((file, index) => (
          <FileRow
            key={file.key}
            file={file}
            via={via.get(file.key)}
            thumbnail={thumbnails.get(file.key)}
            onDeleting={(failed) => setFocusTarget(failed ? undefined : { index, gone: file.key })}
            selected={selectedKeys.has(file.key)}
            onSelect={(range) => select(index, range)}
          />
        ))}
      </ul>
      {files.isRefetchError && <ErrorNotice error={files.error} onRetry={() => files.refetch()} />}
      {files.hasNextPage && (
        <button
          type="button"
          className="button files__more"
          onClick={() => {
            setFocusTarget({ index: all.length });
            void files.fetchNextPage().then((result) => {
              if (result.isError) setFocusTarget(undefined);
            });
          }}
          disabled={files.isFetchingNextPage}
        >
          {files.isFetchingNextPage ? 'Loading…' : 'Show older files'}
        </button>
      )}
    </>
  );
}
