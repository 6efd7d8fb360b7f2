import { useEffect, useMemo, useState } from 'react';
import { RESUMABLE_CHANGED, resumableUploads } from '../api/multipart-upload.ts';
import type { Upload } from './use-uploads.ts';

/**
 * Big uploads this browser left unfinished (a reload, a closed tab, a lost connection), read from
 * localStorage, not the server: those this page is already sending are left out. Read again when
 * this page's uploads change (a finished one forgets its record), when one is discarded, and when
 * another tab writes.
 */
export function useInterruptedUploads(uploads: Upload[]) {
  const [stored, setStored] = useState(resumableUploads);
  useEffect(() => {
    const reread = () => setStored(resumableUploads());
    window.addEventListener('storage', reread);
    window.addEventListener(RESUMABLE_CHANGED, reread);
    return () => {
      window.removeEventListener('storage', reread);
      window.removeEventListener(RESUMABLE_CHANGED, reread);
    };
  }, []);
  // Progress changes `uploads` many times a second; what matters here is which files are in which
  // phase. Read again while rendering when that changes (React's "storing information from previous
  // renders"), so that a finished upload's record is gone from the same render.
  const phases = uploads.map((u) => `${u.file.name}\n${u.file.size}\n${u.phase}`).join('\n');
  const [readFor, setReadFor] = useState(phases);
  if (phases !== readFor) {
    setReadFor(phases);
    setStored(resumableUploads());
  }
  return useMemo(() => stored.filter((r) => !uploads.some((u) => u.file.name === r.name && u.file.size === r.size)), [stored, uploads]);
}
