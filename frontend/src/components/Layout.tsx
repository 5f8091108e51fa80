import { useEffect, useRef, type ReactNode } from "react";

// Set when a navigation happened before the new page's heading existed (lazy route, loading
// state); the next PageHeader to mount takes the focus.
let headingFocusPending = false;
import { Link, NavLink, useLocation } from "react-router";

const NAV = [
  { to: "/", label: "Rankings", testId: "nav-rankings", end: true },
  { to: "/objects", label: "Objects", testId: "nav-objects", end: true },
  { to: "/streams", label: "Streams", testId: "nav-streams", end: false },
  { to: "/alerts", label: "Alerts", testId: "nav-alerts", end: true },
];

function Logo() {
  return (
    <svg aria-hidden="true" viewBox="0 0 32 32" className="h-7 w-7">
      <rect width="32" height="32" rx="7" fill="#0f172a" />
      <circle cx="16" cy="16" r="8" fill="none" stroke="#38bdf8" strokeWidth="3" />
      <circle cx="16" cy="16" r="3" fill="#f43f5e" />
    </svg>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const { pathname } = useLocation();
  const first = useRef(true);

  // On client-side navigation move focus to the new page's heading, so keyboard and
  // screen-reader users land on the new content (not on the link they just used).
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const h1 = document.querySelector<HTMLElement>("main h1");
    if (h1) {
      h1.focus();
    } else {
      headingFocusPending = true;
      document.getElementById("main")?.focus();
    }
  }, [pathname]);

  return (
    <div className="flex min-h-screen flex-col">
      <a href="#main" className="sr-only focus:not-sr-only focus:fixed focus:left-3 focus:top-3 focus:z-50 focus:rounded-md focus:bg-white focus:px-3 focus:py-2 focus:shadow">
        Skip to content
      </a>
      <header className="sticky top-0 z-30 border-b border-slate-800 bg-slate-900 text-white">
        <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3 sm:px-6">
          <Link to="/" className="flex items-center gap-2 rounded font-semibold tracking-tight focus-visible:outline-2 focus-visible:outline-sky-400" data-testid="brand">
            <Logo />
            <span className="text-lg">streamscope</span>
          </Link>
          <nav aria-label="Main" className="order-last -mx-1 w-full sm:order-none sm:mx-0 sm:w-auto sm:flex-1">
            <ul className="flex gap-1">
              {NAV.map((n) => (
                <li key={n.to}>
                  <NavLink
                    to={n.to}
                    end={n.end}
                    data-testid={n.testId}
                    className={({ isActive }) =>
                      `block rounded-md px-3 py-1.5 text-sm font-medium transition focus-visible:outline-2 focus-visible:outline-sky-400 ${
                        isActive ? "bg-slate-700 text-white" : "text-slate-300 hover:bg-slate-800 hover:text-white"
                      }`
                    }
                  >
                    {n.label}
                  </NavLink>
                </li>
              ))}
            </ul>
          </nav>
        </div>
      </header>
      <main id="main" tabIndex={-1} className="mx-auto w-full max-w-7xl flex-1 px-4 py-6 focus:outline-none sm:px-6 sm:py-8">
        {children}
      </main>
      <footer className="border-t border-slate-200 bg-white">
        <div className="mx-auto max-w-7xl px-4 py-4 text-xs text-slate-500 sm:px-6">
          streamscope · object detection on public livestreams · figures are means over frames actually processed
        </div>
      </footer>
    </div>
  );
}

/** Page heading that receives focus after navigation. */
export function PageHeader({ title, subtitle, actions, testId }: { title: ReactNode; subtitle?: ReactNode; actions?: ReactNode; testId?: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (headingFocusPending) {
      headingFocusPending = false;
      ref.current?.focus();
    }
  }, []);
  return (
    <div className="mb-6 flex flex-wrap items-end justify-between gap-4">
      <div className="min-w-0">
        <h1 ref={ref} tabIndex={-1} data-testid={testId} className="text-2xl font-semibold tracking-tight text-slate-900 focus:outline-none sm:text-3xl">
          {title}
        </h1>
        {subtitle && <p className="mt-1 text-sm text-slate-600">{subtitle}</p>}
      </div>
      {actions && <div className="flex flex-wrap items-center gap-2">{actions}</div>}
    </div>
  );
}
