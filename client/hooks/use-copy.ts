import { useCallback, useEffect, useState } from 'react';

/** Copies text to the clipboard; `copied` says so for two seconds, then the button reads "Copy" again. */
export function useCopy() {
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const timer = setTimeout(() => setCopied(false), 2000);
    return () => clearTimeout(timer);
  }, [copied]);
  const copy = useCallback(async (text: string) => {
    await navigator.clipboard.writeText(text);
    setCopied(true);
  }, []);
  return { copied, copy, reset: useCallback(() => setCopied(false), []) };
}
