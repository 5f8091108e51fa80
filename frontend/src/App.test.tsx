import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { OBJECTS, renderApp, stubFetch } from "./test/helpers";

describe("App shell", () => {
  it("has a labelled main navigation and moves focus to the new heading on navigation", async () => {
    const user = userEvent.setup();
    stubFetch({ "GET /api/objects": { json: OBJECTS }, "GET /api/streams": { json: { items: [], total: 0, limit: 25, offset: 0 } } });
    renderApp("/");
    const nav = screen.getByRole("navigation", { name: "Main" });
    expect(screen.getByRole("link", { name: "Rankings" })).toHaveAttribute("aria-current", "page");
    await user.click(screen.getByRole("link", { name: "Objects" }));
    const h1 = await screen.findByRole("heading", { level: 1, name: "Objects overview" });
    expect(h1).toHaveFocus();
    expect(nav).toContainElement(screen.getByRole("link", { name: "Objects" }));
    expect(screen.getByRole("link", { name: "Objects" })).toHaveAttribute("aria-current", "page");
  });

  it("renders a not-found page for unknown routes", () => {
    stubFetch({});
    renderApp("/nope");
    expect(screen.getByRole("heading", { name: "Page not found" })).toBeInTheDocument();
  });
});
