import { useRef, type RefObject } from 'react';
import { copyAnnouncement, useCopy } from '../hooks/use-copy.ts';

/**
 * A link in a read-only field with a Copy button. Copying is announced; where the page may not use
 * the clipboard, the field is selected and a line says to press Ctrl+C. Give it a `key` of the URL
 * so that a new link starts with "Copy" again.
 */
export function CopyableUrl(props: {
  url: string;
  /** The field's accessible name. */
  label: string;
  copyText: string;
  /** The button's accessible names, when its text alone would not say what it copies. */
  buttonLabels?: { copy: string; copied: string };
  fieldRef?: RefObject<HTMLInputElement | null>;
}) {
  const ownField = useRef<HTMLInputElement>(null);
  const field = props.fieldRef ?? ownField;
  const { state, copy } = useCopy(field);
  return (
    <>
      <input
        ref={field}
        className="share__url"
        readOnly
        value={props.url}
        aria-label={props.label}
        onFocus={(event) => event.target.select()}
      />
      <button
        type="button"
        className="button"
        onClick={() => copy(props.url)}
        aria-label={props.buttonLabels && (state === 'copied' ? props.buttonLabels.copied : props.buttonLabels.copy)}
      >
        {state === 'copied' ? 'Copied' : props.copyText}
      </button>
      <p className={`share__copied${state === 'failed' ? ' share__copied--failed' : ''}`} role="status">
        {copyAnnouncement(state)}
      </p>
    </>
  );
}
