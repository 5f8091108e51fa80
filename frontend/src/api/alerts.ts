// Alert rules and their delivery history (/api/alerts). Every call needs the API token: a rule's webhook
// URL is often a credential itself. Kept apart from client.ts so the alerts UI grows on its own.
import { request } from "./client";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type AlertRule = Schemas["AlertRuleOut"];
export type AlertRuleCreated = Schemas["AlertRuleCreated"];
export type NewAlertRule = Schemas["AlertRuleCreate"];
export type AlertCondition = AlertRule["condition"];
export type AlertFiring = Schemas["AlertFiringOut"];
export type DeliveryAttempt = Schemas["DeliveryAttempt"];
export type AlertHistory = Schemas["AlertHistory"];

export const CONDITIONS: { value: AlertCondition; label: string }[] = [
  { value: "count_above", label: "Count above a value for N minutes" },
  { value: "count_below", label: "Count below a value for N minutes" },
  { value: "anomaly_score", label: "Anomaly score above k" },
  { value: "stream_down", label: "Stream down for N minutes" },
];

export function listAlertRules(token: string | null, signal?: AbortSignal): Promise<{ items: AlertRule[] }> {
  return request<{ items: AlertRule[] }>("/alerts/rules", { token, signal });
}

export function createAlertRule(body: NewAlertRule, token: string | null): Promise<AlertRuleCreated> {
  return request<AlertRuleCreated>("/alerts/rules", { method: "POST", body, token });
}

export function setAlertRulePaused(id: number, paused: boolean, token: string | null): Promise<AlertRule> {
  return request<AlertRule>(`/alerts/rules/${id}`, { method: "PATCH", body: { paused }, token });
}

export function deleteAlertRule(id: number, token: string | null): Promise<void> {
  return request<void>(`/alerts/rules/${id}`, { method: "DELETE", token });
}

export function getAlertHistory(id: number, token: string | null, signal?: AbortSignal): Promise<AlertHistory> {
  return request<AlertHistory>(`/alerts/rules/${id}/history?limit=20`, { token, signal });
}

/** What the rule says, in words: "person above 5 per frame for 3 min". */
export function describeRule(r: Pick<AlertRule, "condition" | "object_class" | "threshold" | "minutes">): string {
  const cls = r.object_class || "any class";
  switch (r.condition) {
    case "count_above":
      return `${cls} above ${r.threshold} per frame for ${r.minutes} min`;
    case "count_below":
      return `${cls} below ${r.threshold} per frame for ${r.minutes} min`;
    case "anomaly_score":
      return `anomaly (${cls}) with score above ${r.threshold}`;
    case "stream_down":
      return `stream down for ${r.minutes} min`;
  }
}
