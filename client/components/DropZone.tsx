import { useRef, useState, type DragEvent, type ReactNode } from 'react';
import { type UploadSettings, formatBytes } from '../../contract/api.ts';
import { acceptAttribute, acceptedTypesText } from '../api/accepted-types.ts';

interface DropZoneProps {
  onFiles: (files: File[]) => void;
  /** The bold line: what dropping does on this page. */
  title: string;
  /** The hidden file input's label and test id (specs and screen readers find it by them). */
  inputLabel: string;
  inputTestId: string;
  /** The file picker's accept list; undefined: any file. */
  accept?: string;
  /** The upload arrow above the title. */
  icon?: boolean;
  /** Notes under the button: limits, warnings. */
  children?: ReactNode;
}

/** A dashed area that takes dropped files, with a button that opens the file picker instead. */
export function DropZone({ onFiles, title, inputLabel, inputTestId, accept, icon = false, children }: DropZoneProps) {
  const input = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    const files = Array.from(event.dataTransfer.files);
    if (files.length) onFiles(files);
  };

  return (
    <div
      className={`dropzone${dragging ? ' dropzone--active' : ''}`}
      onDragOver={(event) => {
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
    >
      {icon && (
        <svg className="dropzone__icon" viewBox="0 0 24 24" aria-hidden="true">
          <path d="M12 16V4m0 0l-4 4m4-4l4 4M4 16v2a2 2 0 002 2h12a2 2 0 002-2v-2" />
        </svg>
      )}
      <p className="dropzone__title">{title}</p>
      <p className="dropzone__hint">
        or{' '}
        <button type="button" className="button button--primary" onClick={() => input.current?.click()}>
          Choose files
        </button>
      </p>
      {children}
      <input
        ref={input}
        type="file"
        accept={accept}
        multiple
        hidden
        aria-label={inputLabel}
        data-testid={inputTestId}
        onChange={(event) => {
          const files = Array.from(event.target.files ?? []);
          event.target.value = '';
          if (files.length) onFiles(files);
        }}
      />
    </div>
  );
}

/** The main page's drop zone: the server's limits under it, and a warning while storage is down. */
export function UploadDropZone({
  onFiles,
  settings,
  storageDown,
}: {
  onFiles: (files: File[]) => void;
  settings?: UploadSettings;
  storageDown: boolean;
}) {
  return (
    <DropZone
      onFiles={onFiles}
      title="Drop files here to upload"
      inputLabel="Choose files to upload"
      inputTestId="file-input"
      accept={settings && acceptAttribute(settings)}
      icon
    >
      {settings && (
        <p className="dropzone__limit">
          Up to {formatBytes(settings.maxUploadBytes)} per file. {acceptedTypesText(settings)} Files go straight to storage
          {typeof settings.retentionDays === 'number' ? ` and are deleted ${retentionText(settings.retentionDays)} after upload.` : '.'}
        </p>
      )}
      {storageDown && (
        <p className="dropzone__warning" role="status">
          Storage is unreachable right now: uploads will fail until it is back.
        </p>
      )}
    </DropZone>
  );
}

/** "a day", "30 days". */
function retentionText(days: number): string {
  return days === 1 ? 'a day' : `${days} days`;
}
