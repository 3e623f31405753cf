import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { useAnnounce } from "./Announcer";
import { RetryNotice } from "./RetryNotice";
import { DESCRIPTION_MAX, TITLE_MAX, TaskItem } from "./TaskItem";
import type { Api, CompletedFilter, ListFilters, SortKey, Task } from "./lib/api";
import { ApiError, describeError, retryHint, waitBeforeRetry } from "./lib/errors";
import { newIdempotencyKey } from "./lib/idempotency";
import type { Session } from "./lib/session";
import {
  addTask,
  appendPage,
  emptyList,
  removeTask,
  replaceTask,
  restoreTask,
  type TaskListState,
} from "./lib/taskList";

const UNDO_SECONDS = 6;
const SEARCH_DELAY_MS = 300;

interface Props {
  api: Api;
  session: Session;
  onLogout: () => void;
}

interface Problem {
  message: string;
  n: number;
}

interface PendingDelete {
  task: Task;
  index: number;
  timer: number;
}

export function TasksScreen({ api, session, onLogout }: Props) {
  const announce = useAnnounce();
  const [filters, setFilters] = useState<ListFilters>({ completed: "all", q: "", sort: "newest" });
  const [searchText, setSearchText] = useState("");
  const [list, setList] = useState<TaskListState>(emptyList);
  const [phase, setPhase] = useState<"loading" | "ready" | "error">("loading");
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [reloads, setReloads] = useState(0);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<ApiError | null>(null);
  const [moreAttempts, setMoreAttempts] = useState(0);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [undo, setUndo] = useState<Task | null>(null);
  const pending = useRef(new Map<string, PendingDelete>());
  const checkboxes = useRef(new Map<string, HTMLInputElement>());
  const addInput = useRef<HTMLInputElement>(null);
  const searchInput = useRef<HTMLInputElement>(null);
  const focusAfterRender = useRef<string | null>(null);
  const listRef = useRef(list);
  listRef.current = list;

  const report = useCallback((error: unknown, action: string) => {
    if (error instanceof ApiError && error.status === 401) return; // the app sends the user to log in
    setProblem((p) => ({ message: `${describeError(error, action)} ${retryHint(error)}`.trim(), n: (p?.n ?? 0) + 1 }));
  }, []);

  // The first page, again whenever the filters change (or a retry asks for it).
  useEffect(() => {
    const controller = new AbortController();
    setPhase("loading");
    setMoreError(null);
    api.listTasks(filters, null, controller.signal).then(
      (page) => {
        setList(appendPage(emptyList, page));
        setPhase("ready");
        setLoadError(null);
        const count = page.items.length;
        announce(
          count === 0
            ? "No tasks to show."
            : `Showing ${count} task${count === 1 ? "" : "s"}${page.next_cursor ? ", more available" : ""}.`,
        );
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        if (error instanceof ApiError && error.status === 401) return;
        setLoadError(error instanceof ApiError ? error : new ApiError(0, null));
        setPhase("error");
      },
    );
    return () => controller.abort();
  }, [api, filters, reloads, announce]);

  // Search as the user types, once they pause.
  useEffect(() => {
    const timer = window.setTimeout(
      () => setFilters((f) => (f.q === searchText.trim() ? f : { ...f, q: searchText.trim() })),
      SEARCH_DELAY_MS,
    );
    return () => window.clearTimeout(timer);
  }, [searchText]);

  // "/" jumps to search, as on many sites, unless the user is typing somewhere.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      const typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
      if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
        event.preventDefault();
        searchInput.current?.focus();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  useEffect(() => {
    addInput.current?.focus();
  }, []);

  // Focus a task's checkbox once it is on screen (after load more, undo, delete).
  useEffect(() => {
    const id = focusAfterRender.current;
    if (!id) return;
    focusAfterRender.current = null;
    if (id === "add") addInput.current?.focus();
    else checkboxes.current.get(id)?.focus();
  });

  // --- deletes: hidden at once, sent after the undo window (or when the page goes away) ---
  const commitDelete = useCallback(
    async (id: string, keepalive = false) => {
      const entry = pending.current.get(id);
      if (!entry) return;
      pending.current.delete(id);
      window.clearTimeout(entry.timer);
      setUndo((u) => (u?.id === id ? null : u));
      try {
        await api.deleteTask(id, { keepalive });
        if (!keepalive) announce(`Deleted “${entry.task.title}”.`);
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return; // already gone: what was asked
        // Not deleted after all: show it again rather than pretend.
        setList((l) => restoreTask(l, entry.task, entry.index));
        report(error, `delete “${entry.task.title}”`);
      }
    },
    [api, announce, report],
  );

  useEffect(() => {
    const flush = () => {
      for (const id of [...pending.current.keys()]) void commitDelete(id, true);
    };
    window.addEventListener("pagehide", flush);
    return () => {
      window.removeEventListener("pagehide", flush);
      flush();
    };
  }, [commitDelete]);

  function requestDelete(task: Task) {
    for (const id of pending.current.keys()) void commitDelete(id); // one undo at a time
    const items = listRef.current.items;
    const index = items.findIndex((t) => t.id === task.id);
    const neighbour = items[index + 1] ?? items[index - 1];
    const timer = window.setTimeout(() => void commitDelete(task.id), UNDO_SECONDS * 1000);
    pending.current.set(task.id, { task, index, timer });
    setList((l) => removeTask(l, task.id));
    setUndo(task);
    focusAfterRender.current = neighbour ? neighbour.id : "add";
    announce(`“${task.title}” will be deleted. Press Undo to keep it.`);
  }

  function undoDelete() {
    const entry = undo && pending.current.get(undo.id);
    if (!entry) return;
    window.clearTimeout(entry.timer);
    pending.current.delete(entry.task.id);
    setList((l) => restoreTask(l, entry.task, entry.index));
    setUndo(null);
    focusAfterRender.current = entry.task.id;
    announce(`Kept “${entry.task.title}”.`);
  }

  // --- the other changes: sent, then shown as the server answered ---
  function forget(task: Task, error: unknown) {
    if (error instanceof ApiError && error.status === 404) setList((l) => removeTask(l, task.id));
  }

  async function toggle(task: Task) {
    try {
      const saved = await api.setCompleted(task.id, !task.completed);
      const hidden = filters.completed !== "all";
      if (hidden) {
        const items = listRef.current.items;
        const index = items.findIndex((t) => t.id === task.id);
        const neighbour = items[index + 1] ?? items[index - 1];
        focusAfterRender.current = neighbour ? neighbour.id : "add";
      }
      setList((l) => replaceTask(l, saved, filters.completed));
      announce(`${saved.completed ? "Completed" : "Reopened"} “${saved.title}”.`);
    } catch (error) {
      forget(task, error);
      report(error, task.completed ? "reopen the task" : "complete the task");
    }
  }

  async function save(task: Task, changes: { title: string; description: string | null }) {
    try {
      const saved = await api.updateTask(task.id, changes);
      setList((l) => replaceTask(l, saved, filters.completed));
      announce(`Saved “${saved.title}”.`);
    } catch (error) {
      forget(task, error);
      throw error;
    }
  }

  async function loadMore() {
    const cursor = list.nextCursor;
    if (!cursor || loadingMore) return;
    setLoadingMore(true);
    setMoreError(null);
    try {
      const page = await api.listTasks(filters, cursor);
      const known = new Set(listRef.current.items.map((t) => t.id));
      const fresh = page.items.filter((t) => !known.has(t.id));
      setList((l) => appendPage(l, page));
      if (fresh[0]) focusAfterRender.current = fresh[0].id;
      announce(
        `Loaded ${fresh.length} more task${fresh.length === 1 ? "" : "s"}${page.next_cursor ? "" : "; that is all"}.`,
      );
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) {
        setMoreError(error instanceof ApiError ? error : new ApiError(0, null));
        setMoreAttempts((n) => n + 1);
      }
    } finally {
      setLoadingMore(false);
    }
  }

  async function logout() {
    await Promise.all([...pending.current.keys()].map((id) => commitDelete(id)));
    onLogout();
  }

  const setCompleted = (completed: CompletedFilter) => setFilters((f) => ({ ...f, completed }));
  const filtered = filters.completed !== "all" || filters.q !== "";

  return (
    <div className="app">
      <header className="topbar">
        <p className="brand">
          <span className="brand-mark" aria-hidden="true">
            ✓
          </span>{" "}
          aido
        </p>
        <div className="account">
          <span className="account-email" title={session.email}>
            {session.email}
          </span>
          <button type="button" className="quiet" onClick={() => void logout()}>
            Log out
          </button>
        </div>
      </header>

      <main className="tasks" aria-labelledby="tasks-heading">
        <h1 id="tasks-heading">Your tasks</h1>

        <AddTaskForm
          api={api}
          inputRef={addInput}
          onAdded={(task) => {
            setList((l) => addTask(l, task, filters.completed));
            announce(`Added “${task.title}”.`);
          }}
        />

        <div className="toolbar">
          <div className="field search">
            <label htmlFor="search">Search</label>
            <input
              ref={searchInput}
              id="search"
              type="search"
              placeholder="Title or description"
              value={searchText}
              maxLength={200}
              onChange={(e) => setSearchText(e.target.value)}
              aria-keyshortcuts="/"
            />
          </div>
          <fieldset className="segmented">
            <legend>Show</legend>
            <div className="segments">
              {(["all", "open", "done"] as const).map((value) => (
                <label key={value} className={filters.completed === value ? "selected" : undefined}>
                  <input
                    type="radio"
                    name="completed"
                    value={value}
                    checked={filters.completed === value}
                    onChange={() => setCompleted(value)}
                  />
                  {value === "all" ? "All" : value === "open" ? "Open" : "Done"}
                </label>
              ))}
            </div>
          </fieldset>
          <div className="field sort">
            <label htmlFor="sort">Sort</label>
            <select
              id="sort"
              value={filters.sort}
              onChange={(e) => setFilters((f) => ({ ...f, sort: e.target.value as SortKey }))}
            >
              <option value="newest">Newest first</option>
              <option value="oldest">Oldest first</option>
              <option value="updated">Recently changed</option>
              <option value="title">Title A–Z</option>
            </select>
          </div>
        </div>

        {problem && (
          <div className="problem" role="alert" key={problem.n}>
            <p>{problem.message}</p>
            <button type="button" className="quiet" onClick={() => setProblem(null)}>
              Dismiss
            </button>
          </div>
        )}

        <section aria-labelledby="list-heading" aria-busy={phase === "loading"}>
          <h2 id="list-heading" className="visually-hidden">
            {filters.completed === "done"
              ? "Completed tasks"
              : filters.completed === "open"
                ? "Open tasks"
                : "All tasks"}
          </h2>
          {phase === "loading" && list.items.length === 0 && (
            <p className="state" data-testid="loading">
              <span className="spinner" aria-hidden="true" /> Loading your tasks…
            </p>
          )}
          {phase === "error" && loadError && (
            <RetryNotice
              message={describeError(loadError, "load your tasks")}
              wait={loadError.retryable ? waitBeforeRetry(loadError) : null}
              attempt={reloads}
              auto={loadError.retryable}
              onRetry={() => setReloads((n) => n + 1)}
            />
          )}
          {phase !== "error" && !(phase === "loading" && list.items.length === 0) && list.items.length === 0 && (
            <div className="state empty" data-testid="empty">
              {filtered ? (
                <>
                  <p>
                    {filters.q
                      ? `No tasks match “${filters.q}”.`
                      : filters.completed === "done"
                        ? "No completed tasks yet."
                        : "No open tasks. Nicely done."}
                  </p>
                  <button
                    type="button"
                    onClick={() => {
                      setSearchText("");
                      setFilters((f) => ({ ...f, q: "", completed: "all" }));
                    }}
                  >
                    Show all tasks
                  </button>
                </>
              ) : (
                <>
                  <p className="empty-title">Nothing to do yet.</p>
                  <p>Add your first task above: type it and press Enter.</p>
                </>
              )}
            </div>
          )}
          {list.items.length > 0 && phase !== "error" && (
            <ul className={`task-list${phase === "loading" ? " stale" : ""}`} aria-label="Tasks">
              {list.items.map((task) => (
                <TaskItem
                  key={task.id}
                  ref={(el) => {
                    if (el) checkboxes.current.set(task.id, el);
                    else checkboxes.current.delete(task.id);
                  }}
                  task={task}
                  onToggle={toggle}
                  onSave={save}
                  onDelete={requestDelete}
                />
              ))}
            </ul>
          )}
          {phase === "ready" && list.nextCursor && !moreError && (
            <button type="button" className="load-more" onClick={() => void loadMore()} disabled={loadingMore}>
              {loadingMore ? "Loading…" : "Load more"}
            </button>
          )}
          {phase === "ready" && moreError && (
            <RetryNotice
              message={describeError(moreError, "load more tasks")}
              wait={moreError.retryable ? waitBeforeRetry(moreError) : null}
              attempt={moreAttempts}
              auto={moreError.retryable}
              onRetry={() => void loadMore()}
              retryLabel="Load more"
            />
          )}
        </section>
      </main>

      {undo && (
        <div className="toast" role="status">
          <p>
            Deleted “<span className="toast-title">{undo.title}</span>”.
          </p>
          <button type="button" onClick={undoDelete}>
            Undo
          </button>
          <button type="button" className="quiet" aria-label="Dismiss" onClick={() => void commitDelete(undo.id)}>
            ×
          </button>
        </div>
      )}
    </div>
  );
}

/** The add form: a title (Enter adds it), an optional description; safe to retry. */
function AddTaskForm({
  api,
  inputRef,
  onAdded,
}: {
  api: Api;
  inputRef: React.RefObject<HTMLInputElement | null>;
  onAdded: (task: Task) => void;
}) {
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [withDescription, setWithDescription] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [attempts, setAttempts] = useState(0);
  const [titleError, setTitleError] = useState<string | null>(null);
  const descriptionRef = useRef<HTMLTextAreaElement>(null);
  // One key per draft: every retry of the same text reuses it, so the server creates it once.
  const key = useRef<string | null>(null);

  function edited() {
    key.current = null;
  }

  async function add(event?: FormEvent) {
    event?.preventDefault();
    if (busy) return;
    const text = title.trim();
    if (!text) {
      setTitleError("Type a title first.");
      inputRef.current?.focus();
      return;
    }
    key.current ??= newIdempotencyKey();
    setBusy(true);
    setTitleError(null);
    try {
      const task = await api.createTask(
        { title: text, description: description.trim() ? description : null },
        key.current,
      );
      key.current = null;
      setTitle("");
      setDescription("");
      setWithDescription(false);
      setFailure(null);
      onAdded(task);
      inputRef.current?.focus();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return;
      setFailure(error instanceof ApiError ? error : new ApiError(0, null));
      setAttempts((n) => n + 1);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="add-form" onSubmit={add} noValidate aria-label="Add a task">
      <div className="add-row">
        <label htmlFor="new-title" className="visually-hidden">
          New task
        </label>
        <input
          ref={inputRef}
          id="new-title"
          placeholder="Add a task…"
          value={title}
          maxLength={TITLE_MAX}
          onChange={(e) => {
            setTitle(e.target.value);
            setTitleError(null);
            edited();
          }}
          aria-invalid={titleError ? true : undefined}
          aria-describedby={titleError ? "new-title-error" : undefined}
          enterKeyHint="done"
        />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Adding…" : "Add"}
        </button>
      </div>
      {titleError && (
        <p id="new-title-error" className="field-error">
          {titleError}
        </p>
      )}
      {withDescription ? (
        <div className="field">
          <label htmlFor="new-description">Description (optional)</label>
          <textarea
            ref={descriptionRef}
            id="new-description"
            rows={2}
            value={description}
            maxLength={DESCRIPTION_MAX}
            onChange={(e) => {
              setDescription(e.target.value);
              edited();
            }}
          />
        </div>
      ) : (
        <button
          type="button"
          className="link"
          aria-expanded={false}
          onClick={() => {
            setWithDescription(true);
            // The button gives way to the field: the field takes its focus.
            window.setTimeout(() => descriptionRef.current?.focus());
          }}
        >
          + Add a description
        </button>
      )}
      {failure && (
        <RetryNotice
          message={describeError(failure, "save the new task")}
          wait={failure.retryable ? waitBeforeRetry(failure) : null}
          attempt={attempts}
          auto={failure.retryable}
          onRetry={() => void add()}
          retryLabel="Try again"
        />
      )}
    </form>
  );
}
