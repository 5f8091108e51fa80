import { useEffect, useState } from "react";

interface Props {
  src: string | null | undefined;
  alt: string;
  className?: string;
  /** Eager for the main image of a page, lazy for lists. */
  eager?: boolean;
}

/** A stream snapshot, or a neutral placeholder when there is none yet (or it fails to load). */
export function Thumbnail({ src, alt, className = "", eager = false }: Props) {
  const [failed, setFailed] = useState(false);
  useEffect(() => setFailed(false), [src]);

  if (!src || failed) {
    return (
      <div
        role="img"
        aria-label={`${alt} (no snapshot yet)`}
        data-testid="snapshot-placeholder"
        className={`flex items-center justify-center bg-gradient-to-br from-slate-100 to-slate-200 text-slate-400 ${className}`}
      >
        <svg aria-hidden="true" viewBox="0 0 24 24" className="h-1/3 max-h-12 w-1/3 max-w-12" fill="none" stroke="currentColor" strokeWidth="1.5">
          <path d="M15.75 10.5l4.72-4.72a.75.75 0 011.28.53v11.38a.75.75 0 01-1.28.53l-4.72-4.72M4.5 18.75h9a2.25 2.25 0 002.25-2.25v-9a2.25 2.25 0 00-2.25-2.25h-9A2.25 2.25 0 002.25 7.5v9a2.25 2.25 0 002.25 2.25z" />
        </svg>
      </div>
    );
  }
  return (
    <img
      src={src}
      alt={alt}
      data-testid="snapshot"
      loading={eager ? "eager" : "lazy"}
      decoding="async"
      onError={() => setFailed(true)}
      className={`bg-slate-200 object-cover ${className}`}
    />
  );
}
