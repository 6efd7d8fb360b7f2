import type { ReactNode } from 'react';

/** A modal <dialog>: focus stays inside, Escape cancels. */
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
  return (
    <dialog
      ref={(dialog) => {
        if (dialog && !dialog.open) dialog.showModal();
      }}
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
