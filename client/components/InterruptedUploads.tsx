import { formatBytes } from '../../contract/api.ts';
import type { ResumableUpload } from '../api/multipart-upload.ts';
import { DiscardableUploadRow } from './DiscardableUploadRow.tsx';
import { dateTime } from './dates.ts';

/** Big uploads this browser did not finish: choosing the same file continues from the parts storage has. */
export function InterruptedUploads({ uploads }: { uploads: ResumableUpload[] }) {
  if (uploads.length === 0) return null;
  return (
    <section className="uploads" aria-labelledby="interrupted-title">
      <h2 id="interrupted-title" className="section-title">
        Interrupted uploads
      </h2>
      <p className="uploads__intro">Choose the same file again to continue where it stopped: the parts already sent are kept.</p>
      <ul className="files" aria-label="Interrupted uploads">
        {uploads.map((upload) => (
          <DiscardableUploadRow
            key={upload.fingerprint}
            testId="interrupted-upload"
            name={upload.name}
            upload={upload}
            meta={`${formatBytes(upload.size)} · started ${dateTime.format(new Date(upload.startedAt))}`}
            consequence="If it is still uploading in another tab, that upload stops."
          />
        ))}
      </ul>
    </section>
  );
}
