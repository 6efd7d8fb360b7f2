import { type StoredFile } from '../../contract/api.ts';
import { usePreview } from '../hooks/files.ts';
import { ErrorNotice } from './ErrorNotice.tsx';

/**
 * A previewable file shown under its row, from a short-lived inline GET the server signs only for
 * INLINE_PREVIEW_TYPES. A PDF opens in a new tab: the page's CSP frames nothing.
 */
export function FilePreview({ file }: { file: StoredFile }) {
  const preview = usePreview(file.key, true);
  if (preview.isError) return <ErrorNotice error={preview.error} />;
  if (!preview.data) {
    return (
      <div className="preview" data-testid="file-preview" aria-busy="true">
        Loading the preview…
      </div>
    );
  }
  const { url, kind } = preview.data;
  const label = `Preview of ${file.name}`;
  return (
    <div className="preview" data-testid="file-preview" data-kind={kind}>
      {kind === 'image' && <img className="preview__media" src={url} alt={label} />}
      {kind === 'video' && <video className="preview__media" src={url} controls preload="metadata" aria-label={label} />}
      {kind === 'audio' && <audio src={url} controls preload="metadata" aria-label={label} />}
      {kind === 'pdf' && (
        <a className="button" href={url} target="_blank" rel="noopener noreferrer">
          Open the PDF in a new tab
        </a>
      )}
    </div>
  );
}
