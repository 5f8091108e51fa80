import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { renderApp, stubFetch, type Call } from "../test/helpers";
import type { AlertRule } from "../api/alerts";

const RULE: AlertRule = {
  id: 1, name: "Crowd", condition: "count_above", object_class: "person", threshold: 5, minutes: 3, stream_ids: null,
  webhook_url: "https://hooks.example.com/x", payload_format: "json", cooldown_s: 600, paused: false,
  created_at: "2026-12-02T12:00:00Z",
};

function alertsApi() {
  let rules: AlertRule[] = [];
  return stubFetch({
    "GET /api/alerts/rules": (c: Call) =>
      c.headers.Authorization === "Bearer s3cret" ? { json: { items: rules } } : { status: 401, json: { error: { status: 401, message: "the token is not valid", field: null } } },
    "POST /api/alerts/rules": (c: Call) => {
      const body = c.body as { object_class: string; name: string };
      if (body.object_class === "unicorn") return { status: 422, json: { error: { status: 422, message: "unknown object class 'unicorn'", field: "object_class" } } };
      rules = [{ ...RULE, name: body.name }];
      return { status: 201, json: { ...rules[0], secret: "whsec_once" } };
    },
    "GET /api/alerts/rules/1/history": {
      json: { rule_id: 1, items: [{ id: 9, stream_id: 2, object_class: "person", episode_key: "k", delivery_id: "d-1", started_at: "2026-12-02T12:00:00Z", fired_at: "2026-12-02T12:04:00Z", observed: 7, summary: "person: 7.00 per frame above 5", state: "delivered", delivered_at: "2026-12-02T12:04:01Z", attempts: [{ attempt: 1, status: "failed", started_at: "2026-12-02T12:04:00Z", http_status: 503, latency_ms: 12, error: "HTTP 503" }, { attempt: 2, status: "delivered", started_at: "2026-12-02T12:04:10Z", http_status: 200, latency_ms: 8, error: null }] }] },
    },
  });
}

describe("AlertsPage", () => {
  it("asks for the token, creates a rule, shows the secret once and the delivery history", async () => {
    const user = userEvent.setup();
    const api = alertsApi();
    renderApp("/alerts");
    expect(await screen.findByTestId("rules-need-token")).toBeInTheDocument();
    await user.type(screen.getByLabelText("Token"), "s3cret");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByTestId("rules-empty")).toBeInTheDocument();

    await user.type(screen.getByLabelText("Name"), "Busy stop");
    await user.clear(screen.getByLabelText(/Object class/));
    await user.type(screen.getByLabelText(/Object class/), "unicorn");
    await user.type(screen.getByLabelText("Webhook URL"), "https://hooks.example.com/x");
    await user.click(screen.getByRole("button", { name: "Create rule" }));
    expect(await screen.findByTestId("rule-object_class-error")).toHaveTextContent("unknown object class");

    await user.clear(screen.getByLabelText(/Object class/));
    await user.type(screen.getByLabelText(/Object class/), "person");
    await user.click(screen.getByRole("button", { name: "Create rule" }));
    expect(await screen.findByTestId("rule-secret")).toHaveTextContent("whsec_once");
    const post = api.calls.filter((c) => c.method === "POST").at(-1)!;
    expect(post.body).toMatchObject({ name: "Busy stop", condition: "count_above", object_class: "person", threshold: 5, minutes: 3, stream_ids: null });

    await waitFor(() => expect(screen.getAllByTestId("rule-row")).toHaveLength(1));
    await user.click(screen.getByTestId("rule-history-toggle"));
    expect(await screen.findByTestId("firing")).toHaveAttribute("data-state", "delivered");
    expect(screen.getAllByTestId("attempt-status").map((e) => e.textContent)).toEqual(["failed", "delivered"]);
  });
});
