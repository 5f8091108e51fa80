// The API token is entered once per browser tab and kept in sessionStorage (never localStorage,
// never in the URL), so it is forgotten when the tab closes.

export const TOKEN_KEY = "streamscope.apiToken";

function storage(): Storage | null {
  try {
    return typeof window !== "undefined" ? window.sessionStorage : null;
  } catch {
    return null; // storage disabled (privacy mode)
  }
}

export function loadToken(): string | null {
  return storage()?.getItem(TOKEN_KEY) || null;
}

export function saveToken(token: string): void {
  const t = token.trim();
  if (t) storage()?.setItem(TOKEN_KEY, t);
  else storage()?.removeItem(TOKEN_KEY);
}

export function clearToken(): void {
  storage()?.removeItem(TOKEN_KEY);
}
