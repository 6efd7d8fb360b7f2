import { useCallback, useEffect, useState, type RefObject } from 'react';

export type CopyState = 'idle' | 'copied' | 'failed';

/**
 * Copies text to the clipboard; `state` says 'copied' for two seconds. Where the page may not use
 * the clipboard (plain HTTP on a LAN has no Clipboard API), the text's field is selected instead
 * and `state` says 'failed', so the page can say to press Ctrl+C.
 */
export function useCopy(field: RefObject<HTMLInputElement | null>) {
  const [state, setState] = useState<CopyState>('idle');
  useEffect(() => {
    if (state !== 'copied') return;
    const timer = setTimeout(() => setState('idle'), 2000);
    return () => clearTimeout(timer);
  }, [state]);
  const copy = useCallback(
    async (text: string) => {
      try {
        await navigator.clipboard.writeText(text);
        setState('copied');
      } catch {
        field.current?.focus();
        field.current?.select();
        setState('failed');
      }
    },
    [field],
  );
  return { state, copy };
}

/** What a copy button's neighbour announces (role="status"). */
export const copyAnnouncement = (state: CopyState) =>
  state === 'copied'
    ? 'Link copied.'
    : state === 'failed'
      ? 'This page may not use the clipboard: the link is selected, press Ctrl+C (⌘C on a Mac) to copy it.'
      : '';
