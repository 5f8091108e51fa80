import { useId } from "react";
import { WINDOWS, type RankingWindow } from "../api/types";
import { formatWindow } from "../lib/format";

export function WindowPicker({
  value,
  onChange,
  legend = "Time window",
  testId = "window-picker",
}: {
  value: RankingWindow;
  onChange: (w: RankingWindow) => void;
  legend?: string;
  testId?: string;
}) {
  const name = useId();
  return (
    <fieldset data-testid={testId}>
      <legend className="mb-1.5 block text-sm font-medium text-slate-700">{legend}</legend>
      <div className="inline-flex rounded-lg bg-slate-100 p-1 ring-1 ring-inset ring-slate-200">
        {WINDOWS.map((w) => (
          <label
            key={w}
            title={formatWindow(w)}
            data-testid={`${testId}-${w}`}
            className={`relative cursor-pointer rounded-md px-3 py-1.5 text-sm font-medium transition has-[input:focus-visible]:ring-2 has-[input:focus-visible]:ring-sky-500 ${
              value === w ? "bg-white text-slate-900 shadow-sm" : "text-slate-600 hover:text-slate-900"
            }`}
          >
            <input
              type="radio"
              name={name}
              value={w}
              checked={value === w}
              onChange={() => onChange(w)}
              className="sr-only"
              aria-label={formatWindow(w)}
            />
            <span aria-hidden="true">{w}</span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}
