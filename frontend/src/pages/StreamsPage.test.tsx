import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { makeStream, renderApp, stubFetch, type Call } from "../test/helpers";
import { TOKEN_KEY } from "../lib/token";
import type { Stream } from "../api/types";

function streamsApi(initial: Stream[]) {
  let streams = [...initial];
  const api = stubFetch({
    "GET /api/streams": () => ({ json: { items: streams, total: streams.length, limit: 25, offset: 0 } }),
    "POST /api/streams": (c: Call) => {
      if (c.headers.Authorization !== "Bearer s3cret") return { status: 401, json: { error: { status: 401, message: "Invalid token", field: null } } };
      const body = c.body as { url: string; name?: string };
      if (!body.url.startsWith("http")) return { status: 422, json: { error: { status: 422, message: "Unsupported URL scheme", field: "url" } } };
      const s = makeStream({ id: 10, url: body.url, name: body.name ?? body.url, status: "pending", snapshot_url: null });
      streams = [...streams, s];
      return { status: 201, json: s };
    },
    "PATCH /api/streams/3": (c: Call) => {
      const paused = (c.body as { paused: boolean }).paused;
      streams = streams.map((s) => (s.id === 3 ? { ...s, status: paused ? "paused" : "pending" } : s));
      return { json: streams.find((s) => s.id === 3) };
    },
    "DELETE /api/streams/3": () => {
      streams = streams.filter((s) => s.id !== 3);
      return { status: 204 };
    },
  });
  return api;
}

async function enterToken(user: ReturnType<typeof userEvent.setup>, token = "s3cret") {
  await user.type(screen.getByLabelText("Token"), token);
  await user.click(screen.getByRole("button", { name: "Save" }));
}

describe("StreamsPage", () => {
  it("keeps the token in sessionStorage and registers a stream", async () => {
    const user = userEvent.setup();
    const api = streamsApi([makeStream()]);
    renderApp("/streams");
    expect(await screen.findAllByTestId("stream-row")).toHaveLength(1);

    await enterToken(user);
    expect(window.sessionStorage.getItem(TOKEN_KEY)).toBe("s3cret");
    expect(screen.getByTestId("token-saved")).toBeInTheDocument();

    await user.type(screen.getByLabelText(/Stream URL/), "https://example.com/live.m3u8");
    await user.type(screen.getByLabelText(/Name/), "Harbour");
    await user.click(screen.getByRole("button", { name: "Register stream" }));

    expect(await screen.findByTestId("register-success")).toHaveTextContent("Registered Harbour");
    const post = api.calls.find((c) => c.method === "POST")!;
    expect(post.headers.Authorization).toBe("Bearer s3cret");
    expect(post.body).toEqual({ url: "https://example.com/live.m3u8", name: "Harbour", check: true });
    await waitFor(() => expect(screen.getAllByTestId("stream-row")).toHaveLength(2));
    expect(screen.getByLabelText(/Stream URL/)).toHaveValue("");
  });

  it("shows the API's validation error next to the field", async () => {
    const user = userEvent.setup();
    window.sessionStorage.setItem(TOKEN_KEY, "s3cret");
    streamsApi([]);
    renderApp("/streams");
    await screen.findByTestId("streams-empty");
    const url = screen.getByLabelText(/Stream URL/);
    await user.type(url, "ftp://nope");
    await user.click(screen.getByRole("button", { name: "Register stream" }));

    const err = await screen.findByTestId("url-error");
    expect(err).toHaveTextContent("Unsupported URL scheme");
    expect(url).toHaveAttribute("aria-invalid", "true");
    expect(url).toHaveAccessibleDescription(expect.stringContaining("Unsupported URL scheme"));
    expect(url).toHaveFocus();
  });

  it("validates an empty URL without calling the API", async () => {
    const user = userEvent.setup();
    const api = streamsApi([]);
    renderApp("/streams");
    await screen.findByTestId("streams-empty");
    await user.click(screen.getByRole("button", { name: "Register stream" }));
    expect(screen.getByTestId("url-error")).toHaveTextContent("Enter the URL");
    expect(api.calls.filter((c) => c.method === "POST")).toHaveLength(0);
  });

  it("asks for the token again after a 401", async () => {
    const user = userEvent.setup();
    streamsApi([]);
    renderApp("/streams");
    await screen.findByTestId("streams-empty");
    await enterToken(user, "wrong");
    await user.type(screen.getByLabelText(/Stream URL/), "https://example.com/a.m3u8");
    await user.click(screen.getByRole("button", { name: "Register stream" }));
    expect(await screen.findByTestId("token-error")).toHaveTextContent("Invalid token");
    expect(window.sessionStorage.getItem(TOKEN_KEY)).toBeNull();
    expect(screen.getByTestId("form-error")).toBeInTheDocument();
  });

  it("pauses, resumes and removes (with confirmation)", async () => {
    const user = userEvent.setup();
    window.sessionStorage.setItem(TOKEN_KEY, "s3cret");
    const api = streamsApi([makeStream()]);
    renderApp("/streams");
    const row = await screen.findByTestId("stream-row");

    await user.click(within(row).getByRole("button", { name: "Pause Times Square" }));
    await waitFor(() => expect(screen.getByTestId("stream-row")).toHaveAttribute("data-status", "paused"));
    expect(api.calls.find((c) => c.method === "PATCH")?.body).toEqual({ paused: true });

    await user.click(within(screen.getByTestId("stream-row")).getByRole("button", { name: "Resume Times Square" }));
    await waitFor(() => expect(screen.getByTestId("stream-row")).toHaveAttribute("data-status", "pending"));

    await user.click(screen.getByRole("button", { name: "Remove Times Square" }));
    const confirm = screen.getByRole("button", { name: "Confirm remove" });
    expect(confirm).toHaveFocus();
    await user.click(confirm);
    expect(await screen.findByTestId("streams-empty")).toBeInTheDocument();
    expect(api.calls.filter((c) => c.method === "DELETE")).toHaveLength(1);
  });

  it("disables write actions until a token is entered", async () => {
    streamsApi([makeStream()]);
    renderApp("/streams");
    const row = await screen.findByTestId("stream-row");
    expect(within(row).getByRole("button", { name: "Pause Times Square" })).toBeDisabled();
    expect(within(row).getByRole("button", { name: "Remove Times Square" })).toBeDisabled();
  });

  it("puts filters in the URL and the request", async () => {
    const user = userEvent.setup();
    const api = streamsApi([makeStream()]);
    renderApp("/streams");
    await screen.findByTestId("stream-row");
    await user.selectOptions(screen.getByLabelText("Status"), "live");
    expect(screen.getByTestId("location")).toHaveTextContent("/streams?status=live");
    await waitFor(() => expect(api.gets("/api/streams").at(-1)?.url).toBe("/api/streams?status=live&limit=25&offset=0"));
  });
});
