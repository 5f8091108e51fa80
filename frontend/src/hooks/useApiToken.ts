import { useCallback, useState } from "react";
import type { ApiError } from "../api/client";
import { clearToken, loadToken, saveToken } from "../lib/token";

/** The tab's API token (sessionStorage) as page state, for the TokenCard and the writes of a page: a 401
 *  forgets the token and says why, so the card asks for it again. */
export function useApiToken() {
  const [token, setToken] = useState<string | null>(() => loadToken());
  const [tokenError, setTokenError] = useState<string | null>(null);
  const save = useCallback((t: string) => {
    saveToken(t);
    setToken(loadToken());
    setTokenError(null);
  }, []);
  const forget = useCallback(() => {
    clearToken();
    setToken(null);
  }, []);
  const onUnauthorised = useCallback((err: ApiError) => {
    clearToken();
    setToken(null);
    setTokenError(`${err.message}. Enter a valid API token.`);
  }, []);
  return { token, tokenError, save, forget, onUnauthorised };
}
