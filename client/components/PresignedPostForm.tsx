import type { Ref } from 'react';
import type { UploadPolicy } from '../../contract/api.ts';

/**
 * The boto3 guide's static HTML upload form, made dynamic: one hidden input per signed field,
 * the file input last (S3 ignores fields after the file). It is never shown or submitted by the
 * browser itself; the upload posts its FormData so progress can be shown without leaving the page.
 */
export function PresignedPostForm({ policy, file, formRef }: { policy: UploadPolicy; file: File; formRef: Ref<HTMLFormElement> }) {
  const attachFile = (input: HTMLInputElement | null) => {
    if (!input) return;
    const transfer = new DataTransfer();
    transfer.items.add(file);
    input.files = transfer.files;
  };
  return (
    <form ref={formRef} method="post" encType="multipart/form-data" action={policy.url} hidden>
      {Object.entries(policy.fields).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <input ref={attachFile} type="file" name="file" tabIndex={-1} />
    </form>
  );
}
