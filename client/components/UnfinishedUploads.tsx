import type { StaleUploads } from '../../contract/api.ts';
import { resumableUploads } from '../api/multipart-upload.ts';
import { useUnfinishedUploads } from '../hooks/multipart-uploads.ts';
import { DiscardableUploadRow } from './DiscardableUploadRow.tsx';
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
  return (
    <DiscardableUploadRow
      testId="unfinished-upload"
      name={upload.name}
      upload={upload}
      meta={
        <>
          {upload.type} · <Started at={upload.initiatedAt} />
        </>
      }
      consequence="To have this file here, upload it again from the start."
    />
  );
}

/**
 * Big uploads left unfinished (a closed tab, a lost connection): their parts take space in storage
 * until they are aborted. Shows nothing when there are none, or when the list cannot be read (the
 * file list already says why). Those this browser can go on with are listed under Interrupted
 * uploads instead, not twice.
 */
export function UnfinishedUploads() {
  const unfinished = useUnfinishedUploads();
  const resumable = new Set(resumableUploads().map((r) => `${r.key}\n${r.uploadId}`));
  const uploads = (unfinished.data?.uploads ?? []).filter((u) => !resumable.has(`${u.key}\n${u.uploadId}`));
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
