/** The list on screen: pages merged in order, and what each change does to it. */

import type { CompletedFilter, Task, TaskPage } from "./api";

export interface TaskListState {
  items: Task[];
  nextCursor: string | null;
}

export const emptyList: TaskListState = { items: [], nextCursor: null };

/** Whether a task belongs in the list under this completed filter. */
export function matchesFilter(task: Task, completed: CompletedFilter): boolean {
  return completed === "all" || task.completed === (completed === "done");
}

/**
 * The next page appended. Tasks already shown are not repeated: under "recently updated" a
 * task edited since the first page was loaded can come back on a later one.
 */
export function appendPage(state: TaskListState, page: TaskPage): TaskListState {
  const seen = new Set(state.items.map((t) => t.id));
  return { items: [...state.items, ...page.items.filter((t) => !seen.has(t.id))], nextCursor: page.next_cursor };
}

/** A new task goes first (the default order is newest first), if the filter shows it. */
export function addTask(state: TaskListState, task: Task, completed: CompletedFilter): TaskListState {
  if (!matchesFilter(task, completed)) return state;
  return { ...state, items: [task, ...state.items.filter((t) => t.id !== task.id)] };
}

/** A changed task replaces its old self; it leaves the list when the filter no longer shows it. */
export function replaceTask(state: TaskListState, task: Task, completed: CompletedFilter): TaskListState {
  if (!matchesFilter(task, completed)) return removeTask(state, task.id);
  return { ...state, items: state.items.map((t) => (t.id === task.id ? task : t)) };
}

export function removeTask(state: TaskListState, id: string): TaskListState {
  return { ...state, items: state.items.filter((t) => t.id !== id) };
}

/** Put a task back where it was (undo of a delete); at the end if the list has since shrunk. */
export function restoreTask(state: TaskListState, task: Task, index: number): TaskListState {
  const items = state.items.filter((t) => t.id !== task.id);
  items.splice(Math.min(Math.max(index, 0), items.length), 0, task);
  return { ...state, items };
}
