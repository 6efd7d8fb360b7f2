import { useRef, useState, type DragEvent } from 'react';
import { type UploadSettings, formatBytes } from '../../contract/api.ts';
import { acceptAttribute, acceptedTypesText } from '../api/accepted-types.ts';

export function DropZone({ onFiles, settings, storageDown }: { onFiles: (files: File[]) => void; settings?: UploadSettings; storageDown: boolean }) {
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
      <svg className="dropzone__icon" viewBox="0 0 24 24" aria-hidden="true">
        <path d="M12 16V4m0 0l-4 4m4-4l4 4M4 16v2a2 2 0 002 2h12a2 2 0 002-2v-2" />
      </svg>
      <p className="dropzone__title">Drop files here to upload</p>
      <p className="dropzone__hint">
        or{' '}
        <button type="button" className="button button--primary" onClick={() => input.current?.click()}>
          Choose files
        </button>
      </p>
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
      <input
        ref={input}
        type="file"
        accept={settings && acceptAttribute(settings)}
        multiple
        hidden
        aria-label="Choose files to upload"
        data-testid="file-input"
        onChange={(event) => {
          const files = Array.from(event.target.files ?? []);
          event.target.value = '';
          if (files.length) onFiles(files);
        }}
      />
    </div>
  );
}

/** "a day", "30 days". */
function retentionText(days: number): string {
  return days === 1 ? 'a day' : `${days} days`;
}
