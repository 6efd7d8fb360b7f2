import { useEffect, useRef } from 'react';
import type { UploadPolicy } from '../../contract/api.ts';

/**
 * The boto3 guide's static HTML upload form, made dynamic: one hidden input per signed field,
 * the file input last (S3 ignores fields after the file). The browser never submits it itself:
 * once mounted, with the file attached, it is handed to `onReady`, which posts its FormData so
 * progress can be shown without leaving the page.
 */
export function PresignedPostForm({
  policy,
  file,
  onReady,
}: {
  policy: UploadPolicy;
  file: File;
  onReady: (form: HTMLFormElement) => void;
}) {
  const form = useRef<HTMLFormElement>(null);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    // A file input takes files only from a DataTransfer.
    const transfer = new DataTransfer();
    transfer.items.add(file);
    input.current!.files = transfer.files;
    onReady(form.current!);
  }, [policy, file, onReady]);
  return (
    <form ref={form} method="post" encType="multipart/form-data" action={policy.url} hidden>
      {Object.entries(policy.fields).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <input ref={input} type="file" name="file" tabIndex={-1} />
    </form>
  );
}
