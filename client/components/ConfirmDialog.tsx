import { useEffect, useRef, useState, type ReactNode } from 'react';

/** A modal <dialog>: focus stays inside, Escape cancels, and focus goes back to what opened it. */
export function ConfirmDialog(props: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  busy?: boolean;
  /** Shown on the confirm button while `busy`. */
  busyLabel?: string;
  /** The button that closes it without doing anything. */
  dismissLabel?: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const dialogRef = useRef<HTMLDialogElement>(null);
  // What had focus when the dialog was asked for: the dialog leaves the page without close(), so the
  // browser would not give focus back itself. Read once, on the first render: by the time effects run,
  // autoFocus has already moved focus into the dialog.
  const [opener] = useState(() => document.activeElement);
  useEffect(() => {
    const dialog = dialogRef.current;
    if (dialog && !dialog.open) dialog.showModal(); // open already when StrictMode runs this twice
    return () => {
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
    };
  }, [opener]);
  return (
    <dialog
      ref={dialogRef}
      className="dialog"
      aria-labelledby="confirm-title"
      onCancel={(event) => {
        event.preventDefault();
        props.onCancel();
      }}
    >
      <h2 id="confirm-title" className="dialog__title">
        {props.title}
      </h2>
      <div className="dialog__body">{props.children}</div>
      <div className="dialog__actions">
        <button type="button" className="button" onClick={props.onCancel} autoFocus>
          {props.dismissLabel ?? 'Cancel'}
        </button>
        <button type="button" className="button button--danger" onClick={props.onConfirm} disabled={props.busy}>
          {props.busy ? (props.busyLabel ?? 'Deleting…') : props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
