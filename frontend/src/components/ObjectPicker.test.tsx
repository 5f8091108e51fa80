import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import { matchSuggestions, ObjectPicker } from "./ObjectPicker";

const ALL = ["person", "car", "traffic light", "truck", "stop sign", "carrot"];

function Harness({ initial = [] as string[] }) {
  const [value, setValue] = useState(initial);
  return (
    <>
      <ObjectPicker value={value} onChange={setValue} suggestions={ALL} />
      <output data-testid="value">{JSON.stringify(value)}</output>
    </>
  );
}

const value = () => JSON.parse(screen.getByTestId("value").textContent ?? "[]") as string[];

describe("matchSuggestions", () => {
  it("orders exact, prefix, word-prefix, then substring matches", () => {
    expect(matchSuggestions("car", ALL, [])).toEqual(["car", "carrot"]);
    expect(matchSuggestions("light", ALL, [])).toEqual(["traffic light"]);
    expect(matchSuggestions("  TRAFFIC  ", ALL, [])).toEqual(["traffic light"]);
    expect(matchSuggestions("ru", ALL, [])).toEqual(["truck"]);
    expect(matchSuggestions("", ALL, ["person"], 2)).toEqual(["car", "traffic light"]);
  });
});

describe("ObjectPicker", () => {
  it("adds a multi-word class from a suggestion with the keyboard", async () => {
    const user = userEvent.setup();
    render(<Harness />);
    const box = screen.getByRole("combobox", { name: "Object classes" });
    await user.type(box, "traf");
    expect(box).toHaveAttribute("aria-expanded", "true");
    expect(screen.getByRole("option", { name: "traffic light" })).toBeInTheDocument();
    await user.keyboard("{ArrowDown}");
    expect(box).toHaveAttribute("aria-activedescendant", screen.getByRole("option", { name: "traffic light" }).id);
    await user.keyboard("{Enter}");
    expect(value()).toEqual(["traffic light"]);
    expect(box).toHaveValue("");
    expect(box).toHaveAttribute("aria-expanded", "false");
    expect(box).toHaveFocus();
    await user.keyboard("{ArrowDown}");
    expect(box).toHaveAttribute("aria-expanded", "true");
  });

  it("Enter without a highlighted option takes the best match", async () => {
    const user = userEvent.setup();
    render(<Harness />);
    await user.type(screen.getByRole("combobox"), "light{Enter}");
    expect(value()).toEqual(["traffic light"]);
  });

  it("selects by click and hides already chosen classes", async () => {
    const user = userEvent.setup();
    render(<Harness initial={["person"]} />);
    await user.click(screen.getByRole("combobox"));
    expect(screen.queryByRole("option", { name: "person" })).not.toBeInTheDocument();
    await user.click(screen.getByRole("option", { name: "car" }));
    expect(value()).toEqual(["person", "car"]);
  });

  it("removes classes with their buttons and Backspace", async () => {
    const user = userEvent.setup();
    render(<Harness initial={["person", "car", "truck"]} />);
    await user.click(screen.getByRole("button", { name: "Remove car" }));
    expect(value()).toEqual(["person", "truck"]);
    await user.click(screen.getByRole("combobox"));
    await user.keyboard("{Backspace}");
    expect(value()).toEqual(["person"]);
  });

  it("Escape closes the list", async () => {
    const user = userEvent.setup();
    render(<Harness />);
    const box = screen.getByRole("combobox");
    await user.type(box, "c");
    expect(box).toHaveAttribute("aria-expanded", "true");
    await user.keyboard("{Escape}");
    expect(box).toHaveAttribute("aria-expanded", "false");
  });
});
