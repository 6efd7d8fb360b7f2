import { memo, useEffect, useRef, useState } from 'react';
import { useInterruptedUploads } from '../hooks/interrupted-uploads.ts';
import { useSession, useSignOut } from '../hooks/session.ts';
import { useHealth, useRefetchFailedWhenStorageIsBack, useUploadSettings } from '../hooks/status.ts';
import { useUploads } from '../hooks/use-uploads.ts';
import { UploadDropZone } from './DropZone.tsx';
import { ErrorNotice } from './ErrorNotice.tsx';
import { FileList } from './FileList.tsx';
import { InterruptedUploads } from './InterruptedUploads.tsx';
import { PageFrame } from './PageFrame.tsx';
import { RequestPanel } from './RequestPanel.tsx';
import { SignIn } from './SignIn.tsx';
import { UnfinishedUploads } from './UnfinishedUploads.tsx';
import { UploadList } from './UploadList.tsx';
import { UsageMeter } from './UsageMeter.tsx';
import { ApiTokens } from './ApiTokens.tsx';

function StorageStatus() {
  const health = useHealth();
  useRefetchFailedWhenStorageIsBack(health);
  // A failed check keeps the last good answer in `data`: the server itself is gone, say so.
  if (health.isError) {
    return (
      <span className="status status--down" role="status">
        Postbox unreachable
      </span>
    );
  }
  if (!health.data) return null;
  const reachable = health.data.storage.reachable;
  return (
    <span className={`status ${reachable ? 'status--ok' : 'status--down'}`} role="status">
      {reachable ? 'Storage online' : 'Storage unreachable'}
      {reachable && health.data.storage.mode === 'embedded' && <span className="status__detail"> (embedded)</span>}
    </span>
  );
}

/** Who is signed in (OIDC): the name, else the e-mail. */
function SignedInAs({ person }: { person: { name?: string; email?: string } }) {
  return (
    <span className="topbar__person" title={person.email}>
      {person.name ?? person.email ?? 'Signed in'}
    </span>
  );
}

function SignOut({ onSignOut }: { onSignOut: () => void }) {
  const signOut = useSignOut();
  return (
    <button
      type="button"
      className="button button--quiet"
      onClick={() => {
        onSignOut();
        signOut.mutate();
      }}
      disabled={signOut.isPending}
    >
      Sign out
    </button>
  );
}

function Workspace({
  uploads: { uploads, add, cancel, pause, retry, dismiss, sendForm },
  focusTitle,
}: {
  uploads: ReturnType<typeof useUploads>;
  /** Just signed in: the form and its button are gone, so focus goes to the page's first heading. */
  focusTitle: boolean;
}) {
  const settings = useUploadSettings();
  const health = useHealth();
  const title = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (focusTitle) title.current?.focus();
  }, [focusTitle]);
  const interrupted = useInterruptedUploads(uploads);
  return (
    <>
      <section className="card">
        <h1 className="card__title" ref={title} tabIndex={-1}>
          Send files
        </h1>
        <UploadDropZone onFiles={add} settings={settings.data} storageDown={health.data?.storage.reachable === false} />
        <InterruptedUploads uploads={interrupted} />
        <UploadList uploads={uploads} onCancel={cancel} onPause={pause} onRetry={retry} onDismiss={dismiss} onFormReady={sendForm} />
      </section>
      <Library />
    </>
  );
}

/**
 * Everything below the uploads: it reads its own queries, so progress ticks (several a second while
 * files go up) do not re-render it.
 */
const Library = memo(function Library() {
  return (
    <>
      <section className="card">
        <h2 className="card__title">Files</h2>
        <UsageMeter />
        <FileList />
      </section>
      <RequestPanel />
      <UnfinishedUploads />
      <ApiTokens />
    </>
  );
});

export function App() {
  const session = useSession();
  const locked = session.data?.authRequired === true;
  // Up here, so that the list of uploads outlives a session that ends: after signing in again, a
  // stopped upload is still there to retry (big ones go on from what storage has).
  const uploads = useUploads();
  const signedIn = locked && session.data?.signedIn === true;
  // Signed in on this page before, and not signed out on purpose: the session ended by itself.
  const [wasSignedIn, setWasSignedIn] = useState(false);
  // Set when the user signs out, so that the sign-in form then says nothing about a session ending
  // (renders while signing out still see signedIn true); cleared by signing in again.
  const [signedOutOnPurpose, setSignedOutOnPurpose] = useState(false);
  // Signed out of Postbox after OIDC: the provider's end-session URL, offered on the sign-in card.
  const [providerSignOutUrl, setProviderSignOutUrl] = useState<string | null>(null);
  // Adjusted while rendering (React's "storing information from previous renders"), not in an
  // effect: the first render of the sign-in form already knows whether the session ended.
  const [sawSignedIn, setSawSignedIn] = useState(false);
  if (signedIn !== sawSignedIn) {
    setSawSignedIn(signedIn);
    if (signedIn) {
      setWasSignedIn(true);
      setSignedOutOnPurpose(false);
    }
  }
  // The sign-in form was shown: once the workspace replaces it, focus goes to its first heading.
  const [showedSignIn, setShowedSignIn] = useState(false);

  return (
    <PageFrame
      topbarSide={
        <div className="topbar__side">
          <StorageStatus />
          {signedIn && session.data?.person && <SignedInAs person={session.data.person} />}
          {signedIn && (
            <SignOut
              onSignOut={() => {
                setSignedOutOnPurpose(true);
                setProviderSignOutUrl(session.data?.endSessionUrl ?? null);
              }}
            />
          )}
        </div>
      }
    >
      {session.isPending ? (
        <p className="placeholder">Loading…</p>
      ) : session.isError ? (
        <ErrorNotice error={session.error} onRetry={() => session.refetch()} />
      ) : locked && !session.data.signedIn ? (
        <SignIn
          passwordEnabled={session.data.signInEnabled}
          signInUrl={session.data.signInUrl}
          providerSignOutUrl={signedOutOnPurpose ? providerSignOutUrl : null}
          sessionEnded={wasSignedIn && !signedOutOnPurpose}
          onSubmit={() => setShowedSignIn(true)}
        />
      ) : (
        <Workspace uploads={uploads} focusTitle={showedSignIn} />
      )}
    </PageFrame>
  );
}
