import { useEffect, useRef, type ReactNode } from 'react';

/** A modal <dialog>: focus stays inside, Escape cancels, and focus goes back to what opened it. */
export function ConfirmDialog(props: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  busy?: boolean;
  /** Shown on the confirm button while `busy`. */
  busyLabel?: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const dialogRef = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    // The dialog leaves the page without close(), so the browser would not give focus back itself.
    const opener = document.activeElement;
    dialogRef.current?.showModal();
    return () => {
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
    };
  }, []);
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
          Cancel
        </button>
        <button type="button" className="button button--danger" onClick={props.onConfirm} disabled={props.busy}>
          {props.busy ? (props.busyLabel ?? 'Deleting…') : props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
