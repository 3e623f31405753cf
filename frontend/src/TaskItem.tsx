import { forwardRef, useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import type { Task } from "./lib/api";
import { ApiError, describeError, fieldErrors } from "./lib/errors";
import { relativeTime } from "./lib/time";

export const TITLE_MAX = 200;
export const DESCRIPTION_MAX = 2000;

interface Props {
  task: Task;
  onToggle: (task: Task) => Promise<void>;
  onSave: (task: Task, changes: { title: string; description: string | null }) => Promise<void>;
  onDelete: (task: Task) => void;
}

/** One task: its checkbox (complete / reopen), its text, and Edit / Delete; or its edit form. */
export const TaskItem = forwardRef<HTMLInputElement, Props>(function TaskItem(
  { task, onToggle, onSave, onDelete },
  checkboxRef,
) {
  const [editing, setEditing] = useState(false);
  const [pending, setPending] = useState<boolean | null>(null);
  const editButton = useRef<HTMLButtonElement>(null);
  const wasEditing = useRef(false);

  // Back from the form, focus returns to where the user started: the Edit button.
  useEffect(() => {
    if (wasEditing.current && !editing) editButton.current?.focus();
    wasEditing.current = editing;
  }, [editing]);

  const id = `task-${task.id}`;
  const when =
    task.updated_at !== task.created_at
      ? `Changed ${relativeTime(task.updated_at)}`
      : `Added ${relativeTime(task.created_at)}`;

  if (editing) {
    return (
      <li className="task editing" data-testid="task">
        <EditForm
          task={task}
          onCancel={() => setEditing(false)}
          onSave={async (changes) => {
            await onSave(task, changes);
            setEditing(false);
          }}
        />
      </li>
    );
  }

  return (
    <li className={`task${task.completed ? " done" : ""}`} data-testid="task" aria-busy={pending !== null || undefined}>
      <input
        ref={checkboxRef}
        type="checkbox"
        id={`${id}-done`}
        className="check"
        // Shows the click at once; the task itself changes when the server has it, and a
        // failure puts the box back (and says why). Never disabled: that would drop focus.
        checked={pending ?? task.completed}
        onChange={async () => {
          if (pending !== null) return;
          setPending(!task.completed);
          try {
            await onToggle(task);
          } finally {
            setPending(null);
          }
        }}
        aria-describedby={task.description ? `${id}-description` : undefined}
      />
      <div className="task-body">
        <label htmlFor={`${id}-done`} className="task-title">
          <span className="visually-hidden">{task.completed ? "Completed: " : "Open: "}</span>
          <span className="task-title-text">{task.title}</span>
        </label>
        {task.description && (
          <p id={`${id}-description`} className="task-description">
            {task.description}
          </p>
        )}
        <div className="task-footer">
          <p className="task-meta">
            <time dateTime={task.updated_at} title={new Date(task.updated_at).toLocaleString()}>
              {when}
            </time>
          </p>
          <div className="task-actions">
            <button ref={editButton} type="button" className="quiet" onClick={() => setEditing(true)}>
              Edit<span className="visually-hidden"> “{task.title}”</span>
            </button>
            <button type="button" className="quiet danger" onClick={() => onDelete(task)}>
              Delete<span className="visually-hidden"> “{task.title}”</span>
            </button>
          </div>
        </div>
      </div>
    </li>
  );
});

function EditForm({
  task,
  onCancel,
  onSave,
}: {
  task: Task;
  onCancel: () => void;
  onSave: (changes: { title: string; description: string | null }) => Promise<void>;
}) {
  const [title, setTitle] = useState(task.title);
  const [description, setDescription] = useState(task.description ?? "");
  const [saving, setSaving] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const titleRef = useRef<HTMLInputElement>(null);
  const id = `edit-${task.id}`;

  useEffect(() => {
    titleRef.current?.focus();
    titleRef.current?.select();
  }, []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (saving) return;
    if (!title.trim()) {
      setErrors({ title: "A task needs a title." });
      titleRef.current?.focus();
      return;
    }
    setSaving(true);
    setErrors({});
    setMessage(null);
    try {
      // An emptied description is cleared (null), not kept as "".
      await onSave({ title: title.trim(), description: description.trim() ? description : null });
    } catch (error) {
      setSaving(false);
      if (error instanceof ApiError && error.status === 422) {
        const fields = fieldErrors(error.detail);
        setErrors(fields);
        if (!fields.title && !fields.description) setMessage(describeError(error, "save the task"));
      } else {
        setMessage(describeError(error, "save the task"));
      }
    }
  }

  function onKeyDown(event: KeyboardEvent) {
    if (event.key === "Escape") {
      event.preventDefault();
      onCancel();
    }
  }

  return (
    // eslint-disable-next-line jsx-a11y/no-noninteractive-element-interactions -- Escape cancels the form, as in a dialog
    <form className="edit-form" onSubmit={submit} onKeyDown={onKeyDown} aria-label={`Edit “${task.title}”`} noValidate>
      <div className="field">
        <label htmlFor={`${id}-title`}>Title</label>
        <input
          ref={titleRef}
          id={`${id}-title`}
          value={title}
          maxLength={TITLE_MAX}
          onChange={(e) => setTitle(e.target.value)}
          aria-invalid={errors.title ? true : undefined}
          aria-describedby={errors.title ? `${id}-title-error` : undefined}
        />
        {errors.title && (
          <p id={`${id}-title-error`} className="field-error">
            {errors.title}
          </p>
        )}
      </div>
      <div className="field">
        <label htmlFor={`${id}-description`}>Description</label>
        <textarea
          id={`${id}-description`}
          value={description}
          maxLength={DESCRIPTION_MAX}
          rows={3}
          onChange={(e) => setDescription(e.target.value)}
          aria-invalid={errors.description ? true : undefined}
          aria-describedby={errors.description ? `${id}-description-error` : undefined}
        />
        {errors.description && (
          <p id={`${id}-description-error`} className="field-error">
            {errors.description}
          </p>
        )}
      </div>
      {message && (
        <p className="form-error" role="alert">
          {message}
        </p>
      )}
      <div className="edit-actions">
        <button type="submit" className="primary" disabled={saving}>
          {saving ? "Saving…" : "Save"}
        </button>
        <button type="button" className="quiet" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
