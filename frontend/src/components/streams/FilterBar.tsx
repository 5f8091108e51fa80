import { useEffect, useState } from "react";
import { STREAM_STATUSES, type StreamStatus } from "../../api/types";
import { statusStyle } from "../../lib/status";
import { type StreamsState } from "../../lib/query";

export function FilterBar({ state, onChange }: { state: StreamsState; onChange: (s: StreamsState) => void }) {
  const [q, setQ] = useState(state.q);
  useEffect(() => setQ(state.q), [state.q]);
  return (
    <form
      role="search"
      aria-label="Filter streams"
      className="mb-4 flex flex-wrap items-end gap-3"
      onSubmit={(e) => {
        e.preventDefault();
        onChange({ ...state, q, page: 1 });
      }}
    >
      <div className="min-w-[12rem] flex-1">
        <label htmlFor="streams-q" className="field-label">
          Search
        </label>
        <input id="streams-q" data-testid="streams-search" type="search" className="field-input" placeholder="Name, title or URL" value={q} onChange={(e) => setQ(e.target.value)} />
      </div>
      <div>
        <label htmlFor="streams-status" className="field-label">
          Status
        </label>
        <select
          id="streams-status"
          data-testid="streams-status"
          className="field-input"
          value={state.status ?? ""}
          onChange={(e) => onChange({ ...state, q, status: (e.target.value || null) as StreamStatus | null, page: 1 })}
        >
          <option value="">All</option>
          {STREAM_STATUSES.map((s) => (
            <option key={s} value={s}>
              {statusStyle(s).label}
            </option>
          ))}
        </select>
      </div>
      <button type="submit" className="btn-secondary h-[38px]">
        Search
      </button>
    </form>
  );
}
