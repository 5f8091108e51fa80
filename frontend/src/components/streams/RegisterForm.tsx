import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link } from "react-router";
import { ApiError, createStream } from "../../api/client";
import { type Stream } from "../../api/types";
import { streamLabel } from "../../lib/format";

type Fields = "url" | "name" | "fps";

export function RegisterForm({ token, onUnauthorised, onCreated }: { token: string | null; onUnauthorised: (e: ApiError) => void; onCreated: () => void }) {
  const [url, setUrl] = useState("");
  const [name, setName] = useState("");
  const [fps, setFps] = useState("");
  const [check, setCheck] = useState(true);
  const [busy, setBusy] = useState(false);
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<Fields, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [created, setCreated] = useState<Stream | null>(null);
  const refs = { url: useRef<HTMLInputElement>(null), name: useRef<HTMLInputElement>(null), fps: useRef<HTMLInputElement>(null) };
  const focusField = useRef<Fields | null>(null);

  useEffect(() => {
    if (focusField.current) {
      refs[focusField.current].current?.focus();
      focusField.current = null;
    }
  });

  async function submit(e: FormEvent) {
    e.preventDefault();
    setFormError(null);
    setCreated(null);
    const errs: Partial<Record<Fields, string>> = {};
    if (!url.trim()) errs.url = "Enter the URL of a livestream or video.";
    const fpsNum = fps.trim() ? Number(fps) : undefined;
    if (fpsNum !== undefined && (!Number.isFinite(fpsNum) || fpsNum <= 0)) errs.fps = "Enter a positive number of frames per second.";
    setFieldErrors(errs);
    if (Object.keys(errs).length) {
      focusField.current = errs.url ? "url" : "fps";
      return;
    }
    setBusy(true);
    try {
      const s = await createStream(
        { url: url.trim(), ...(name.trim() ? { name: name.trim() } : {}), ...(fpsNum !== undefined ? { fps: fpsNum } : {}), check },
        token,
      );
      setCreated(s);
      setUrl("");
      setName("");
      setFps("");
      onCreated();
    } catch (err) {
      const apiErr = err instanceof ApiError ? err : new ApiError(0, String(err));
      if (apiErr.status === 401) {
        onUnauthorised(apiErr);
        setFormError("The API rejected the token. Enter it again above, then submit.");
      } else if (apiErr.field === "url" || apiErr.field === "name" || apiErr.field === "fps") {
        setFieldErrors({ [apiErr.field]: apiErr.message });
        focusField.current = apiErr.field;
      } else if (apiErr.status === 409) {
        setFieldErrors({ url: apiErr.message });
        focusField.current = "url";
      } else {
        setFormError(apiErr.message);
      }
    } finally {
      setBusy(false);
    }
  }

  const fieldProps = (f: Fields) => ({
    "aria-invalid": fieldErrors[f] ? true : undefined,
    "aria-describedby": [fieldErrors[f] ? `${f}-error` : null, `${f}-hint`].filter(Boolean).join(" "),
  });
  const fieldError = (f: Fields) =>
    fieldErrors[f] ? (
      <p id={`${f}-error`} className="field-error" data-testid={`${f}-error`}>
        {fieldErrors[f]}
      </p>
    ) : null;

  return (
    <section className="card p-4 sm:p-5" aria-labelledby="register-title" data-testid="register-card">
      <h2 id="register-title" className="mb-3 text-base font-semibold text-slate-900">
        Register a stream
      </h2>
      <form onSubmit={submit} noValidate className="flex flex-col gap-4" data-testid="register-form" aria-describedby={!token ? "register-token-hint" : undefined}>
        <div>
          <label htmlFor="url" className="field-label">
            Stream URL <span className="text-rose-600" aria-hidden="true">*</span>
          </label>
          <input
            id="url"
            ref={refs.url}
            data-testid="url-input"
            type="url"
            inputMode="url"
            required
            autoComplete="url"
            placeholder="https://www.youtube.com/watch?v=…"
            className="field-input"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            {...fieldProps("url")}
          />
          <p id="url-hint" className="mt-1 text-xs text-slate-500">
            YouTube, HLS (.m3u8), RTSP, HTTP or file URL.
          </p>
          {fieldError("url")}
        </div>
        <div>
          <label htmlFor="name" className="field-label">
            Name <span className="font-normal text-slate-500">(optional)</span>
          </label>
          <input id="name" ref={refs.name} data-testid="name-input" type="text" className="field-input" value={name} onChange={(e) => setName(e.target.value)} {...fieldProps("name")} />
          <p id="name-hint" className="sr-only">
            Defaults to the source title.
          </p>
          {fieldError("name")}
        </div>
        <div>
          <label htmlFor="fps" className="field-label">
            Frames analysed per second <span className="font-normal text-slate-500">(optional)</span>
          </label>
          <input
            id="fps"
            ref={refs.fps}
            data-testid="fps-input"
            type="number"
            inputMode="decimal"
            min="0"
            step="0.1"
            placeholder="1.0"
            className="field-input"
            value={fps}
            onChange={(e) => setFps(e.target.value)}
            {...fieldProps("fps")}
          />
          <p id="fps-hint" className="sr-only">
            Defaults to the server setting.
          </p>
          {fieldError("fps")}
        </div>
        <label className="flex items-start gap-2 text-sm text-slate-700">
          <input type="checkbox" data-testid="check-input" checked={check} onChange={(e) => setCheck(e.target.checked)} className="mt-0.5 h-4 w-4 rounded border-slate-300 accent-sky-600" />
          <span>Check now that the source can be resolved (slower)</span>
        </label>
        {!token && (
          <p id="register-token-hint" className="text-sm text-amber-800">
            Enter the API token above first.
          </p>
        )}
        {formError && (
          <p role="alert" className="rounded-md bg-rose-50 px-3 py-2 text-sm text-rose-800" data-testid="form-error">
            {formError}
          </p>
        )}
        <button type="submit" className="btn-primary" disabled={busy} data-testid="register-submit">
          {busy ? "Registering…" : "Register stream"}
        </button>
        <div role="status" aria-live="polite">
          {created && (
            <p className="rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-900" data-testid="register-success">
              Registered{" "}
              <Link to={`/streams/${created.id}`} className="link">
                {streamLabel(created)}
              </Link>
              .
            </p>
          )}
        </div>
      </form>
    </section>
  );
}
