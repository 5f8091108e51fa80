import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { OBJECTS, renderApp, stubFetch } from "../test/helpers";

describe("ObjectsPage", () => {
  it("lists the overall ranking of classes, each linking to its stream ranking", async () => {
    const api = stubFetch({ "GET /api/objects": { json: OBJECTS } });
    renderApp("/objects");
    const rows = await screen.findAllByTestId("object-row");
    expect(rows.map((r) => r.getAttribute("data-object"))).toEqual(["person", "car", "traffic light", "truck"]);
    const tl = within(rows[2]!);
    expect(tl.getByRole("link", { name: /traffic light/ })).toHaveAttribute("href", "/?object=traffic%20light&window=24h");
    expect(rows[0]).toHaveTextContent("2.40");
    expect(rows[0]).toHaveTextContent("12,000");
    expect(api.calls).toHaveLength(1);
  });

  it("filters in the page and keeps the filter in the URL", async () => {
    const user = userEvent.setup();
    stubFetch({ "GET /api/objects": { json: OBJECTS } });
    renderApp("/objects");
    await screen.findAllByTestId("object-row");
    await user.type(screen.getByRole("searchbox", { name: "Filter classes" }), "tr");
    expect(screen.getAllByTestId("object-row").map((r) => r.getAttribute("data-object"))).toEqual(["traffic light", "truck"]);
    expect(screen.getByTestId("location")).toHaveTextContent("/objects?q=tr");
  });

  it("shows a network error", async () => {
    stubFetch({ "GET /api/objects": () => Promise.reject(new TypeError("Failed to fetch")) });
    renderApp("/objects");
    expect(await screen.findByRole("alert")).toHaveTextContent("Cannot reach the API");
  });
});
