import { createHash } from 'node:crypto';
import { formatBytes, previewKindOf } from '../../contract/api.ts';
import type { BundleFile, LiveShare } from './share-record.ts';
import type { GoneReason } from './share-service.ts';
import { safeZipNames } from './zip-names.ts';

/**
 * The public share pages: plain server-rendered HTML, no script at all. Everything that comes from
 * a person (file name, note) goes through `escapeHtml`; the one stylesheet is inline and allowed
 * by its hash in the Content-Security-Policy, which allows nothing else but forms to this origin
 * and the storage (a password form's answer redirects there).
 */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `
:root{--bg:#f5f6fa;--card:#fff;--text:#1c2033;--muted:#5b6277;--line:#e3e6ef;--accent:#4f46e5;--accent-strong:#4338ca;--danger:#b42318;--danger-soft:#fef3f2;font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans',sans-serif;color:var(--text);background:var(--bg);line-height:1.5}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;flex-direction:column;align-items:center;padding:48px 16px}
.brand{display:flex;align-items:center;gap:10px;font-weight:700;font-size:1.05rem;margin-bottom:20px;color:var(--text)}
.brand__mark{width:26px;height:26px;border-radius:8px;background:linear-gradient(135deg,var(--accent),#7c3aed)}
.card{width:100%;max-width:480px;background:var(--card);border:1px solid var(--line);border-radius:14px;padding:28px;box-shadow:0 8px 30px rgb(16 24 40 / .08)}
.eyebrow{margin:0 0 14px;color:var(--muted);font-size:.9rem}
.file{display:flex;gap:14px;align-items:center;padding:14px;border:1px solid var(--line);border-radius:12px;background:#fafbfe}
.file__icon{flex:none;width:40px;height:48px;border-radius:6px;background:#eef0ff;border:1px solid #d9dcfb;position:relative}
.file__icon::after{content:'';position:absolute;top:-1px;right:-1px;width:12px;height:12px;background:#d9dcfb;border-bottom-left-radius:4px}
.file__name{margin:0;font-size:1.05rem;font-weight:600;overflow-wrap:anywhere}
.file__meta{margin:2px 0 0;color:var(--muted);font-size:.88rem}
.note{margin:18px 0 0;padding:12px 14px;border-left:3px solid var(--accent);background:#f8f9fc;border-radius:0 10px 10px 0}
.note__label{display:block;font-size:.8rem;font-weight:600;color:var(--muted);text-transform:uppercase;letter-spacing:.04em;margin-bottom:4px}
.note__text{margin:0;white-space:pre-wrap;overflow-wrap:anywhere}
.facts{margin:18px 0 0;padding:0;list-style:none;color:var(--muted);font-size:.9rem}
.facts li{margin:2px 0}
form{margin:22px 0 0;display:grid;gap:10px}
label{font-weight:600;font-size:.95rem}
input[type=password]{font:inherit;width:100%;padding:10px 12px;border:1px solid #cfd3e2;border-radius:10px}
input[aria-invalid=true]{border-color:var(--danger)}
.error{margin:0;color:var(--danger);font-size:.92rem}
button{font:inherit;font-weight:600;border:1px solid var(--accent);background:var(--accent);color:#fff;padding:11px 18px;border-radius:10px;cursor:pointer}
button:hover{background:var(--accent-strong);border-color:var(--accent-strong)}
a{color:var(--accent-strong)}
:focus-visible{outline:2px solid var(--accent-strong);outline-offset:2px}
.fine{margin:18px 0 0;color:var(--muted);font-size:.82rem}
.status{width:48px;height:48px;border-radius:50%;display:grid;place-items:center;font-size:1.5rem;font-weight:700;margin-bottom:14px;background:#eef0ff;color:var(--accent)}
.status--gone{background:var(--danger-soft);color:var(--danger)}
h1{margin:0 0 8px;font-size:1.35rem}
.lead{margin:0;color:var(--muted);overflow-wrap:anywhere}
.card--wide{max-width:760px}
.files{list-style:none;margin:18px 0 0;padding:0;display:grid;gap:10px}
.row{display:grid;grid-template-columns:auto 1fr auto;gap:12px;align-items:center;padding:10px 12px;border:1px solid var(--line);border-radius:12px;background:#fafbfe}
.row__name{margin:0;font-weight:600;overflow-wrap:anywhere}
.row__meta{margin:0;color:var(--muted);font-size:.85rem}
.row button{padding:7px 12px;font-size:.9rem}
.thumb{width:56px;height:56px;border-radius:8px;object-fit:cover;background:#eef0ff;display:block}
.preview{grid-column:1/-1;width:100%;max-height:360px;border-radius:8px;background:#000}
.preview--audio{height:40px}
.preview--audio{background:none}
.all{margin:20px 0 0;display:flex;gap:12px;align-items:center;flex-wrap:wrap}
.all[hidden]{display:none}
.all p{margin:0;color:var(--muted);font-size:.9rem}
@media (max-width:480px){.row{grid-template-columns:auto 1fr}.row>form,.row>button{grid-column:1/-1}.card{padding:18px}}
`;

export const PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  'img-src data:',
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * A bundle page's CSP: the page's one script (by nonce; it starts the zip's service worker, which
 * is a script of this origin too), fetches to this origin, previews from the storage.
 */
export function bundlePageCsp(storageOrigin: string, nonce: string): string {
  return [
    "default-src 'none'",
    `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
    `script-src 'nonce-${nonce}'`,
    "worker-src 'self'",
    "connect-src 'self'",
    `img-src data: ${storageOrigin}`,
    `media-src ${storageOrigin}`,
    "base-uri 'none'",
    "frame-ancestors 'none'",
    `form-action 'self' ${storageOrigin}`,
  ].join('; ');
}

/** The page's CSP: forms may post here, and their answer may redirect to the storage. */
export function pageCsp(storageOrigin: string): string {
  return `${PAGE_CSP}; form-action 'self' ${storageOrigin}`;
}

const ICON =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='8' fill='%234f46e5'/%3E%3Cpath d='M8 12l8 6 8-6v10H8z' fill='white'/%3E%3C/svg%3E";

export function layout(title: string, body: string, head = '', cardClass = 'card'): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} · Postbox</title>
<link rel="icon" href="${ICON}">
<style>${STYLE}</style>
${head}</head>
<body>
<div class="brand"><span class="brand__mark" aria-hidden="true"></span>Postbox</div>
<main class="${cardClass}">
${body}
</main>
</body>
</html>
`;
}

const utc = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' });
const relative = new Intl.RelativeTimeFormat('en', { numeric: 'always' });

/** "in 40 minutes", "in 5 hours", "in 3 days": a time anyone can read, whatever their time zone. */
function fromNow(ms: number): string {
  const minutes = Math.max(1, Math.round(ms / 60_000));
  if (minutes < 60) return relative.format(minutes, 'minute');
  const hours = Math.round(minutes / 60);
  if (hours < 48) return relative.format(hours, 'hour');
  return relative.format(Math.round(hours / 24), 'day');
}
const typeLabel = (contentType: string) => (contentType === 'application/octet-stream' ? 'file' : contentType);

export function sharePage(input: {
  share: LiveShare;
  size: number;
  /** Ask for the password (the link has one). */
  askPassword: boolean;
  /** Shown under the password field. */
  passwordError?: string;
  now?: number;
}): string {
  const { share, size, now = Date.now() } = input;
  const expiresAt = share.expiresAt === null ? null : new Date(share.expiresAt);
  const facts: string[] = [
    expiresAt === null
      ? 'This link does not expire.'
      : `This link works until ${utc.format(expiresAt)} UTC (${fromNow(expiresAt.getTime() - now)}).`,
  ];
  const left = downloadsLeft(share);
  if (left) facts.push(left);
  const note = share.note
    ? `<figure class="note"><figcaption class="note__label">Note from the sender</figcaption><p class="note__text">${escapeHtml(share.note)}</p></figure>`
    : '';
  const error = input.passwordError ? `<p class="error" id="password-error" role="alert">${escapeHtml(input.passwordError)}</p>` : '';
  const password = input.askPassword
    ? `<label for="password">Password</label>
<input id="password" name="password" type="password" required minlength="1" maxlength="200" autocomplete="current-password" autofocus${
        input.passwordError ? ' aria-invalid="true" aria-describedby="password-error"' : ''
      }>
${error}`
    : '';
  return layout(
    share.fileName,
    `<p class="eyebrow">A file was shared with you</p>
<div class="file">
<span class="file__icon" aria-hidden="true"></span>
<div><h1 class="file__name">${escapeHtml(share.fileName)}</h1>
<p class="file__meta">${escapeHtml(formatBytes(size))} · ${escapeHtml(typeLabel(share.contentType))}</p></div>
</div>
${note}
<ul class="facts">${facts.map((fact) => `<li>${escapeHtml(fact)}</li>`).join('')}</ul>
<form method="post" action="/s/${escapeHtml(share.id)}">
${password}<button type="submit">Download</button>
</form>
<p class="fine">${input.askPassword ? 'The person who shared this file protected it with a password. ' : ''}The file downloads straight from storage, under its original name.</p>`,
  );
}

/** What "N downloads left" says, or nothing for a link without a limit. */
const downloadsLeft = (share: LiveShare) => {
  if (share.maxDownloads === null) return undefined;
  const left = share.maxDownloads - share.downloads;
  return `${left} ${left === 1 ? 'download' : 'downloads'} left.`;
};

/**
 * The answer to the Download button: the browser goes on to the file (a presigned GET that lives a
 * minute, an attachment, so this page stays), and the page says so, with what is left. A redirect
 * instead would leave the previous page up, wrong-password message and old count included, and
 * people would press Download again, using up downloads.
 */
export function downloadStartedPage(input: { share: LiveShare; url: string }): string {
  const { share, url } = input;
  const left = downloadsLeft(share);
  return layout(
    share.fileName,
    `<div class="status" aria-hidden="true">↓</div>
<h1>Your download is starting</h1>
<p class="lead"><strong dir="auto">${escapeHtml(share.fileName)}</strong> is on its way from storage.${left ? ` ${escapeHtml(left)}` : ''}</p>
<p class="fine">If it does not start, <a href="${escapeHtml(url)}">download it here</a> (this address works for a minute).</p>`,
    `<meta http-equiv="refresh" content="0; url=${escapeHtml(url)}">
`,
  );
}

const GONE: Record<GoneReason, { title: string; text: string }> = {
  expired: {
    title: 'This link has expired',
    text: 'The person who shared it set it to stop working after a while. Ask them for a new link if you still need the file.',
  },
  exhausted: {
    title: 'This link has been used up',
    text: 'It allowed a limited number of downloads, and all of them have been used. Ask the person who shared it for a new link.',
  },
  revoked: {
    title: 'This link was turned off',
    text: 'The person who shared it revoked the link. Ask them for a new one if you still need the file.',
  },
  file_deleted: {
    title: 'This file is no longer available',
    text: 'It was deleted after the link was shared. Ask the person who shared it whether they can send it again.',
  },
};

function message(kind: 'gone' | 'info', title: string, text: string): string {
  return layout(
    title,
    `<div class="status${kind === 'gone' ? ' status--gone' : ''}" aria-hidden="true">${kind === 'gone' ? '×' : '!'}</div>
<h1>${escapeHtml(title)}</h1>
<p class="lead">${escapeHtml(text)}</p>`,
  );
}

export const gonePage = (reason: GoneReason) => message('gone', GONE[reason].title, GONE[reason].text);

export const missingPage = () =>
  message(
    'gone',
    'There is no such link',
    'Check that you copied the whole address. If you did, the link may have been removed together with its file.',
  );

/** "a second", "20 seconds", "a minute", "15 minutes". */
function waitFor(seconds: number): string {
  if (seconds <= 1) return 'a second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes <= 1 ? 'a minute' : `${minutes} minutes`;
}

export function tooManyTriesPage(retryAfterSeconds: number): string {
  return message(
    'info',
    'Too many wrong passwords',
    `To protect this file, password tries are paused. Wait ${waitFor(retryAfterSeconds)}, then try again.`,
  );
}

export const crossSitePage = () =>
  message(
    'gone',
    'Start the download from the link itself',
    'Another website tried to download this file for you. Open the link you were sent and press Download there.',
  );

export const passwordInAddressPage = () =>
  message(
    'gone',
    'The password does not go in the address',
    'Send it in the form (the request body), never in the link: addresses end up in logs and histories.',
  );

export const unreadableFormPage = () =>
  message('gone', 'That request could not be read', 'Open the link you were sent and press Download there.');

export function tooManyOpensPage(retryAfterSeconds: number): string {
  const wait = retryAfterSeconds >= 60 ? 'a minute' : retryAfterSeconds <= 1 ? 'a second' : `${retryAfterSeconds} seconds`;
  return message(
    'info',
    'Too many requests from your address',
    `Postbox has paused opening links from your address for a short while. Wait ${wait}, then reload this page.`,
  );
}

export const unavailablePage = () =>
  message('info', 'Postbox cannot reach its storage right now', 'Nothing is wrong with your link. Try again in a moment.');

export const errorPage = () => message('info', 'Something went wrong', 'Postbox could not open this link. Try again in a moment.');

/** The facts under a link's note: until when it works, downloads left. */
function factsOf(share: LiveShare, now: number): string[] {
  const expiresAt = share.expiresAt === null ? null : new Date(share.expiresAt);
  const facts = [
    expiresAt === null
      ? 'This link does not expire.'
      : `This link works until ${utc.format(expiresAt)} UTC (${fromNow(expiresAt.getTime() - now)}).`,
  ];
  const left = downloadsLeft(share);
  if (left) facts.push(share.files ? `${left} One download is one visit: every file of it, and Download all, count once.` : left);
  return facts;
}

const noteOf = (share: LiveShare) =>
  share.note
    ? `<figure class="note"><figcaption class="note__label">Note from the sender</figcaption><p class="note__text">${escapeHtml(share.note)}</p></figure>`
    : '';

/** A bundle behind a password: only the form, nothing of the files (names included) until it is given. */
export function bundleLockedPage(input: { share: LiveShare; passwordError?: string }): string {
  const { share } = input;
  const error = input.passwordError ? `<p class="error" id="password-error" role="alert">${escapeHtml(input.passwordError)}</p>` : '';
  return layout(
    'Shared files',
    `<p class="eyebrow">Files were shared with you</p>
<h1>This link is protected by a password</h1>
<form method="post" action="/s/${escapeHtml(share.id)}">
<label for="password">Password</label>
<input id="password" name="password" type="password" required minlength="1" maxlength="200" autocomplete="current-password" autofocus${
      input.passwordError ? ' aria-invalid="true" aria-describedby="password-error"' : ''
    }>
${error}<button type="submit">Open</button>
</form>`,
  );
}

/** A row's thumbnail (an image's own, else a plain tile) and, for video and audio, a player under the row. */
function previewOf(file: BundleFile, url: string | undefined): { thumb: string; player: string } {
  const kind = url === undefined ? undefined : previewKindOf(file.contentType);
  const src = url === undefined ? '' : escapeHtml(url);
  const tile = '<span class="thumb" aria-hidden="true"></span>';
  if (kind === 'image') return { thumb: `<img class="thumb" src="${src}" alt="" loading="lazy">`, player: '' };
  if (kind === 'video') return { thumb: tile, player: `<video class="preview" controls preload="metadata" src="${src}"></video>` };
  if (kind === 'audio')
    return { thumb: tile, player: `<audio class="preview preview--audio" controls preload="none" src="${src}"></audio>` };
  if (kind === 'pdf') {
    return {
      thumb: `<a class="thumb" href="${src}" target="_blank" rel="noopener noreferrer" aria-label="Preview ${escapeHtml(file.name)}"></a>`,
      player: '',
    };
  }
  return { thumb: tile, player: '' };
}

/**
 * A bundle's page: every file with its size, its preview when it has one, and its own Download
 * (one form, a button per file). "Download all (.zip)" appears only when the page's script runs:
 * it builds the zip in the browser (bundle-zip.ts) under the entry names given here.
 */
export function bundlePage(input: {
  share: LiveShare & { files: BundleFile[] };
  previews: ReadonlyMap<number, string>;
  nonce: string;
  now?: number;
}): string {
  const { share, previews, now = Date.now() } = input;
  const zipNames = safeZipNames(share.files.map((file) => file.name));
  const rows = share.files
    .map((file, index) =>
      file.deleted
        ? `<li class="row row--deleted"><span class="thumb" aria-hidden="true"></span><div><p class="row__name" dir="auto">${escapeHtml(file.name)}</p><p class="row__meta">Deleted by the sender</p></div></li>`
        : `<li class="row" data-index="${index}" data-size="${file.size}" data-zip-name="${escapeHtml(zipNames[index]!)}">
${previewOf(file, previews.get(index)).thumb}
<div><p class="row__name" dir="auto">${escapeHtml(file.name)}</p><p class="row__meta">${escapeHtml(formatBytes(file.size))} · ${escapeHtml(typeLabel(file.contentType))}</p></div>
<button type="submit" form="download" name="file" value="${index}" aria-label="Download ${escapeHtml(file.name)}">Download</button>
${previewOf(file, previews.get(index)).player}</li>`,
    )
    .join('\n');
  const live = share.files.filter((file) => !file.deleted).length;
  const count = `${live} ${live === 1 ? 'file' : 'files'}`;
  return layout(
    `${count} shared with you`,
    `<p class="eyebrow">Files were shared with you</p>
<h1>${count} · ${escapeHtml(formatBytes(share.fileSize))}</h1>
${noteOf(share)}
<ul class="facts">${factsOf(share, now)
      .map((fact) => `<li>${escapeHtml(fact)}</li>`)
      .join('')}</ul>
<form id="download" method="post" action="/s/${escapeHtml(share.id)}"></form>
<ul class="files" id="files" data-share="${escapeHtml(share.id)}">
${rows}
</ul>
<div class="all" id="all" hidden><button type="button" id="download-all">Download all (.zip)</button><p id="zip-status" role="status"></p></div>
<p class="fine">Files download straight from storage. Download all builds the zip in your browser; nothing passes through Postbox.</p>
<script type="module" nonce="${escapeHtml(input.nonce)}" src="/s/_/bundle-page.js"></script>`,
    '',
    'card card--wide',
  );
}

export const zipExpiredPage = () =>
  message(
    'info',
    'Start Download all again',
    'This zip download was not started from its page, or the page was closed. Open the link and press Download all.',
  );
