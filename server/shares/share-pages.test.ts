import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { downloadStartedPage, escapeHtml, gonePage, pageCsp, sharePage, tooManyTriesPage } from './share-pages.ts';
import { liveShare } from './live-share.fixture.ts';

const share = liveShare({
  id: 'AAAAAAAAAAAAAAAAAAAAAA',
  fileKey: 'uploads/x',
  fileName: `"><script>alert(1)</script>.txt`,
  fileSize: 10,
  createdAt: '2026-11-23T09:30:00.000Z',
  expiresAt: '2026-12-24T18:00:00.000Z',
  maxDownloads: 3,
  downloads: 1,
  note: `Hi & <b>bye</b> 'x'`,
});

describe('share pages', () => {
  it('escapes the five characters that matter in HTML text and attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
  });

  it('shows user data as text only, with expiry and downloads left', () => {
    const html = sharePage({ share, size: 1536, askPassword: false, now: Date.parse('2026-12-21T17:10:00Z') });
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>');
    expect(html).toContain('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;.txt');
    expect(html).toContain('Hi &amp; &lt;b&gt;bye&lt;/b&gt; &#39;x&#39;');
    expect(html).toContain('This link works until 24 December 2026 at 18:00 UTC (in 3 days).');
    expect(html).toContain('2 downloads left.');
    expect(html).toContain('1.5 KiB');
    expect(html).not.toContain('type="password"');
  });

  it("says how long the link still works in words, whatever the reader's time zone", () => {
    const until = (from: string) => /UTC (\(in [^)]+\))/.exec(sharePage({ share, size: 1, askPassword: false, now: Date.parse(from) }))![1];
    expect(until('2026-12-24T17:59:50Z')).toBe('(in 1 minute)');
    expect(until('2026-12-24T17:20:00Z')).toBe('(in 40 minutes)');
    expect(until('2026-12-24T13:00:00Z')).toBe('(in 5 hours)');
    expect(until('2026-12-23T00:00:00Z')).toBe('(in 42 hours)');
    expect(until('2026-11-24T18:00:00Z')).toBe('(in 30 days)');
  });

  it('says the download is starting, goes on to it, and says what is left; the name as text', () => {
    const url = 'http://127.0.0.1:8081/postbox/uploads/x?X-Amz-Signature=abc&response-content-disposition=a%22b';
    const html = downloadStartedPage({ share: { ...share, downloads: 2 }, url });
    expect(html).toContain(
      '<meta http-equiv="refresh" content="0; url=http://127.0.0.1:8081/postbox/uploads/x?X-Amz-Signature=abc&amp;response-content-disposition=a%22b">',
    );
    expect(html).toContain(
      '<a href="http://127.0.0.1:8081/postbox/uploads/x?X-Amz-Signature=abc&amp;response-content-disposition=a%22b">download it here</a>',
    );
    expect(html).toContain('1 download left.');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('not right');
  });

  it('asks for the password with a labelled field and an announced error', () => {
    const html = sharePage({ share, size: 10, askPassword: true, passwordError: 'That password is not right. Try again.' });
    expect(html).toContain('<label for="password">Password</label>');
    expect(html).toMatch(
      /<input id="password" name="password" type="password"[^>]* aria-invalid="true" aria-describedby="password-error">/,
    );
    expect(html).toContain('role="alert">That password is not right. Try again.</p>');
  });

  it('allows exactly its own inline style, and forms to itself and the storage', () => {
    const html = gonePage('revoked');
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    const csp = pageCsp('http://127.0.0.1:9000');
    expect(csp).toContain(`style-src 'sha256-${createHash('sha256').update(style).digest('base64')}'`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("form-action 'self' http://127.0.0.1:9000");
    expect(html).not.toMatch(/<script|style="/);
  });

  it('tells how long to wait when tries are paused', () => {
    expect(tooManyTriesPage(30)).toContain('Wait 30 seconds');
    expect(tooManyTriesPage(1)).toContain('Wait a second');
    expect(tooManyTriesPage(60)).toContain('Wait a minute');
    expect(tooManyTriesPage(14 * 60 + 1)).toContain('Wait 15 minutes');
  });
});
