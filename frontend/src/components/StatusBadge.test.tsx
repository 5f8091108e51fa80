import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { StatusBadge } from "./StatusBadge";
import { Thumbnail } from "./Thumbnail";

describe("StatusBadge", () => {
  it.each([
    ["live", "Live", "emerald"],
    ["reconnecting", "Reconnecting", "amber"],
    ["failed", "Failed", "rose"],
    ["paused", "Paused", "slate"],
  ])("shows %s as text and colour", (status, label, colour) => {
    render(<StatusBadge status={status} />);
    const badge = screen.getByTestId("status-badge");
    expect(badge).toHaveTextContent(`Status: ${label}`);
    expect(badge).toHaveAttribute("data-status", status);
    expect(badge.className).toContain(colour);
  });

  it("puts the reason in the tooltip", () => {
    render(<StatusBadge status="failed" reason="HTTP 404 on playlist" />);
    expect(screen.getByTestId("status-badge")).toHaveAttribute("title", "Failed: HTTP 404 on playlist");
  });

  it("survives an unknown status", () => {
    render(<StatusBadge status="exploded" />);
    expect(screen.getByTestId("status-badge")).toHaveTextContent("exploded");
  });
});

describe("Thumbnail", () => {
  it("shows a labelled placeholder when there is no snapshot", () => {
    render(<Thumbnail src={null} alt="Snapshot of Cam" />);
    expect(screen.getByRole("img", { name: "Snapshot of Cam (no snapshot yet)" })).toHaveAttribute("data-testid", "snapshot-placeholder");
  });

  it("falls back to the placeholder when the image fails", () => {
    render(<Thumbnail src="/api/streams/3/snapshot" alt="Snapshot of Cam" />);
    const img = screen.getByRole("img", { name: "Snapshot of Cam" });
    expect(img).toHaveAttribute("src", "/api/streams/3/snapshot");
    fireEvent.error(img);
    expect(screen.getByTestId("snapshot-placeholder")).toBeInTheDocument();
  });
});
