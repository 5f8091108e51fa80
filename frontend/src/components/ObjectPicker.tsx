import { useId, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { MAX_OBJECTS, normaliseObject } from "../lib/query";

interface Props {
  value: string[];
  onChange: (next: string[]) => void;
  /** Known classes, best first (from /api/objects). */
  suggestions: string[];
  max?: number;
  label?: string;
}

const MAX_OPTIONS = 8;

/** Suggestions for a query: exact match, then prefix, then word-prefix, then substring. */
export function matchSuggestions(query: string, all: readonly string[], exclude: readonly string[], limit = MAX_OPTIONS): string[] {
  const q = normaliseObject(query);
  const pool = all.filter((s) => !exclude.includes(s));
  if (!q) return pool.slice(0, limit);
  const score = (s: string): number => {
    if (s === q) return 0;
    if (s.startsWith(q)) return 1;
    if (s.split(" ").some((w) => w.startsWith(q))) return 2;
    if (s.includes(q)) return 3;
    return -1;
  };
  return pool
    .map((s, i) => ({ s, i, sc: score(s) }))
    .filter((x) => x.sc >= 0)
    .sort((a, b) => a.sc - b.sc || a.i - b.i)
    .slice(0, limit)
    .map((x) => x.s);
}

/** Accessible multi-select combobox (ARIA 1.2 pattern) with chips for the chosen classes. */
export function ObjectPicker({ value, onChange, suggestions, max = MAX_OBJECTS, label = "Object classes" }: Props) {
  const id = useId();
  const inputId = `${id}-input`;
  const listId = `${id}-list`;
  const hintId = `${id}-hint`;
  const inputRef = useRef<HTMLInputElement>(null);
  const [query, setQuery] = useState("");
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);

  const options = useMemo(() => matchSuggestions(query, suggestions, value), [query, suggestions, value]);
  const full = value.length >= max;
  const showList = open && !full && options.length > 0;

  function add(raw: string) {
    const o = normaliseObject(raw);
    if (!o || value.includes(o) || full) {
      setQuery("");
      return;
    }
    onChange([...value, o]);
    setQuery("");
    setActive(-1);
    // Close after a pick so the list does not cover the controls below (it reopens on typing,
    // ArrowDown or a click on the box).
    setOpen(false);
  }

  function remove(o: string) {
    onChange(value.filter((v) => v !== o));
    inputRef.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent<HTMLInputElement>) {
    switch (e.key) {
      case "ArrowDown":
        e.preventDefault();
        setOpen(true);
        setActive((a) => (options.length ? (a + 1) % options.length : -1));
        break;
      case "ArrowUp":
        e.preventDefault();
        setOpen(true);
        setActive((a) => (options.length ? (a <= 0 ? options.length - 1 : a - 1) : -1));
        break;
      case "Enter": {
        e.preventDefault();
        const pick = showList && active >= 0 ? options[active] : query.trim() ? (options[0] ?? query) : undefined;
        if (pick) add(pick);
        break;
      }
      case "Escape":
        if (showList) {
          e.preventDefault();
          setOpen(false);
          setActive(-1);
        } else if (query) {
          e.preventDefault();
          setQuery("");
        }
        break;
      case "Backspace":
        if (!query && value.length > 0) {
          const last = value[value.length - 1];
          if (last) onChange(value.slice(0, -1));
        }
        break;
      default:
        break;
    }
  }

  return (
    <div className="w-full" data-testid="object-picker">
      <label htmlFor={inputId} className="mb-1.5 block text-sm font-medium text-slate-700">
        {label}
      </label>
      <div className="relative">
        <div className="flex min-h-11 flex-wrap items-center gap-1.5 rounded-lg border border-slate-300 bg-white px-2 py-1.5 shadow-sm focus-within:border-sky-500 focus-within:ring-2 focus-within:ring-sky-500/30">
          {value.length > 0 && (
            <ul aria-label="Selected classes" className="contents" data-testid="selected-objects">
              {value.map((o) => (
                <li key={o} className="inline-flex items-center gap-1 rounded-md bg-sky-50 py-0.5 pl-2 pr-1 text-sm font-medium text-sky-900 ring-1 ring-inset ring-sky-200" data-testid="object-chip">
                  {o}
                  <button
                    type="button"
                    onClick={() => remove(o)}
                    aria-label={`Remove ${o}`}
                    className="rounded p-0.5 text-sky-700 hover:bg-sky-100 hover:text-sky-900 focus-visible:outline-2 focus-visible:outline-sky-600"
                  >
                    <svg aria-hidden="true" viewBox="0 0 20 20" className="h-3.5 w-3.5" fill="currentColor">
                      <path d="M6.28 5.22a.75.75 0 00-1.06 1.06L8.94 10l-3.72 3.72a.75.75 0 101.06 1.06L10 11.06l3.72 3.72a.75.75 0 101.06-1.06L11.06 10l3.72-3.72a.75.75 0 00-1.06-1.06L10 8.94 6.28 5.22z" />
                    </svg>
                  </button>
                </li>
              ))}
            </ul>
          )}
          <input
            ref={inputRef}
            id={inputId}
            data-testid="object-search"
            type="text"
            role="combobox"
            aria-autocomplete="list"
            aria-expanded={showList}
            aria-controls={listId}
            aria-activedescendant={showList && active >= 0 ? `${listId}-${active}` : undefined}
            aria-describedby={hintId}
            autoComplete="off"
            spellCheck={false}
            disabled={full}
            placeholder={full ? `Up to ${max} classes` : value.length ? "Add another class…" : "Search classes, e.g. person, traffic light"}
            value={query}
            onChange={(e) => {
              setQuery(e.target.value);
              setOpen(true);
              setActive(-1);
            }}
            onFocus={() => setOpen(true)}
            onClick={() => setOpen(true)}
            onBlur={() => {
              setOpen(false);
              setActive(-1);
            }}
            onKeyDown={onKeyDown}
            className="min-w-[10rem] flex-1 border-0 bg-transparent px-1 py-1 text-base text-slate-900 placeholder:text-slate-400 focus:outline-none sm:text-sm"
          />
        </div>
        <ul
          id={listId}
          role="listbox"
          aria-label="Suggested classes"
          data-testid="object-suggestions"
          hidden={!showList}
          className="absolute left-0 right-0 z-20 mt-1 max-h-72 overflow-auto rounded-lg border border-slate-200 bg-white py-1 text-sm shadow-lg"
        >
          {options.map((o, i) => (
            <li
              key={o}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active}
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => add(o)}
              onMouseEnter={() => setActive(i)}
              className={`cursor-pointer px-3 py-2 ${i === active ? "bg-sky-700 text-white" : "text-slate-800"}`}
            >
              {o}
            </li>
          ))}
        </ul>
      </div>
      <p id={hintId} className="mt-1.5 text-xs text-slate-500">
        Type to search, use the arrow keys and Enter to add; Backspace removes the last class.
      </p>
    </div>
  );
}
