import { useHealth, useUploadSettings } from '../hooks/status.ts';
import { useUploads } from '../hooks/use-uploads.ts';
import { DropZone } from './DropZone.tsx';
import { FileList } from './FileList.tsx';
import { UploadList } from './UploadList.tsx';

function StorageStatus() {
  const health = useHealth();
  if (!health.data) return null;
  const reachable = health.data.storage.reachable;
  return (
    <span className={`status ${reachable ? 'status--ok' : 'status--down'}`} role="status">
      {reachable ? `Storage online${health.data.storage.mode === 'embedded' ? ' (embedded)' : ''}` : 'Storage unreachable'}
    </span>
  );
}

export function App() {
  const settings = useUploadSettings();
  const { uploads, add, cancel, retry, dismiss, registerForm } = useUploads(settings.data);

  return (
    <div className="page">
      <header className="topbar">
        <div className="brand">
          <span className="brand__mark" aria-hidden="true" />
          <span className="brand__name">Postbox</span>
        </div>
        <StorageStatus />
      </header>
      <main className="content">
        <section className="card">
          <h1 className="card__title">Send files</h1>
          <DropZone onFiles={add} maxUploadBytes={settings.data?.maxUploadBytes} />
          <UploadList uploads={uploads} onCancel={cancel} onRetry={retry} onDismiss={dismiss} registerForm={registerForm} />
        </section>
        <section className="card">
          <h2 className="card__title">Files</h2>
          <FileList />
        </section>
      </main>
    </div>
  );
}
