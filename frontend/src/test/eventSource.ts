import { vi } from "vitest";

/**
 * jsdom has no EventSource: this stand-in records the URLs opened and lets a test play the server's part
 * (hello, events, a refusal). The real one is exercised by the Chromium test (tests/e2e/test_live_ui.py).
 */
export class FakeEventSource {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 2;
  static instances: FakeEventSource[] = [];
  readyState = FakeEventSource.CONNECTING;
  onerror: ((event: Event) => void) | null = null;
  private listeners = new Map<string, ((event: MessageEvent) => void)[]>();

  constructor(public url: string) {
    FakeEventSource.instances.push(this);
  }

  addEventListener(kind: string, listener: (event: MessageEvent) => void) {
    this.listeners.set(kind, [...(this.listeners.get(kind) ?? []), listener]);
  }

  close() {
    this.readyState = FakeEventSource.CLOSED;
  }

  /** The server sends an event of this kind. */
  emit(kind: string, data: unknown = {}, id = "") {
    this.readyState = FakeEventSource.OPEN;
    const event = new MessageEvent(kind, { data: JSON.stringify(data), lastEventId: id });
    for (const listener of this.listeners.get(kind) ?? []) listener(event);
  }

  /** The connection fails: `closed` as after an error answer (EventSource gives up), else it reconnects. */
  fail(closed: boolean) {
    this.readyState = closed ? FakeEventSource.CLOSED : FakeEventSource.CONNECTING;
    this.onerror?.(new Event("error"));
  }

  static install() {
    FakeEventSource.instances = [];
    vi.stubGlobal("EventSource", FakeEventSource);
  }

  static latest(): FakeEventSource {
    const source = FakeEventSource.instances.at(-1);
    if (!source) throw new Error("no EventSource was opened");
    return source;
  }
}
