import { describe, expect, it } from "vitest";
import type { Task } from "./api";
import { addTask, appendPage, emptyList, matchesFilter, removeTask, replaceTask, restoreTask } from "./taskList";

function task(id: string, completed = false): Task {
  return { id, title: `Task ${id}`, description: null, completed, created_at: "", updated_at: "" };
}
const ids = (state: { items: Task[] }) => state.items.map((t) => t.id);

describe("the list on screen", () => {
  it("appends pages in order and keeps the last cursor", () => {
    const one = appendPage(emptyList, { items: [task("a"), task("b")], next_cursor: "c1" });
    const two = appendPage(one, { items: [task("c")], next_cursor: null });
    expect(ids(two)).toEqual(["a", "b", "c"]);
    expect(two.nextCursor).toBeNull();
  });

  it("does not repeat a task that moved onto a later page (edited under 'recently changed')", () => {
    const one = appendPage(emptyList, { items: [task("a"), task("b")], next_cursor: "c1" });
    expect(ids(appendPage(one, { items: [task("b"), task("c")], next_cursor: null }))).toEqual(["a", "b", "c"]);
  });

  it("puts a new task first, unless the filter hides it", () => {
    const state = appendPage(emptyList, { items: [task("a")], next_cursor: null });
    expect(ids(addTask(state, task("n"), "all"))).toEqual(["n", "a"]);
    expect(ids(addTask(state, task("n"), "done"))).toEqual(["a"]);
  });

  it("replaces a changed task in place, and drops it when the filter no longer shows it", () => {
    const state = appendPage(emptyList, { items: [task("a"), task("b")], next_cursor: null });
    const done = task("a", true);
    expect(replaceTask(state, done, "all").items[0]).toBe(done);
    expect(ids(replaceTask(state, done, "open"))).toEqual(["b"]);
  });

  it("puts an undone delete back where it was, or at the end if the list shrank", () => {
    const state = appendPage(emptyList, { items: [task("a"), task("b"), task("c")], next_cursor: null });
    expect(ids(restoreTask(removeTask(state, "b"), task("b"), 1))).toEqual(["a", "b", "c"]);
    expect(ids(restoreTask(emptyList, task("b"), 5))).toEqual(["b"]);
  });

  it("matches the completed filter", () => {
    expect([
      matchesFilter(task("a", true), "done"),
      matchesFilter(task("a", true), "open"),
      matchesFilter(task("a"), "all"),
    ]).toEqual([true, false, true]);
  });
});
