import type { ReactNode } from 'react';

/** Every page's frame: the top bar with the brand (and what a page puts beside it), then the content. */
export function PageFrame({ topbarSide, children }: { topbarSide?: ReactNode; children: ReactNode }) {
  return (
    <div className="page">
      <header className="topbar">
        <div className="brand">
          <span className="brand__mark" aria-hidden="true" />
          <span className="brand__name">Postbox</span>
        </div>
        {topbarSide}
      </header>
      <main className="content">{children}</main>
    </div>
  );
}
