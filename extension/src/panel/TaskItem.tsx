import { useEffect, useRef, useState } from "react";
import type { Priority, Task, TaskPatch } from "../api/schemas.ts";
import { isOverdue } from "../tasks/views.ts";
import { formatDue, formatRepeat, shortUrl } from "./format.ts";

type Props = {
  task: Task;
  now: Date;
  tz: string;
  focused: boolean;
  onToggle: (task: Task) => void;
  onDelete: (task: Task) => void;
  onSave: (task: Task, patch: TaskPatch) => Promise<boolean>;
};

const PRIORITY_LABEL: Record<Priority, string> = { high: "High priority", medium: "", low: "Low priority" };

/** One task: check it off, open its page, edit it inline, delete it. */
export function TaskItem({ task, now, tz, focused, onToggle, onDelete, onSave }: Props) {
  const [editing, setEditing] = useState(false);
  const ref = useRef<HTMLLIElement>(null);
  useEffect(() => {
    if (focused) ref.current?.scrollIntoView({ block: "center" });
  }, [focused]);
  const overdue = isOverdue(task, now, tz);
  const done = task.status === "completed";
  const checkboxId = `done-${task.id}`;
  return (
    <li
      ref={ref}
      className={`task${overdue ? " overdue" : ""}${done ? " done" : ""}${focused ? " focused" : ""}`}
      data-testid="task"
      data-task-id={task.id}
    >
      {editing ? (
        <TaskEditor
          task={task}
          onCancel={() => setEditing(false)}
          onSave={async (patch) => {
            if (await onSave(task, patch)) setEditing(false);
          }}
        />
      ) : (
        <>
          <input
            id={checkboxId}
            type="checkbox"
            className="task-check"
            checked={done}
            onChange={() => onToggle(task)}
            aria-label={done ? `Mark "${task.title}" as not done` : `Complete "${task.title}"`}
          />
          <div className="task-body">
            <label htmlFor={checkboxId} className="task-title" data-testid="task-title">
              {task.priority === "high" && (
                <span className="prio prio-high" title="High priority" aria-hidden="true">
                  !
                </span>
              )}
              {task.title}
            </label>
            <div className="task-meta">
              {task.due && (
                <span className={`due${overdue ? " due-overdue" : ""}`} data-testid="task-due">
                  {overdue && <span className="visually-hidden">Overdue: </span>}
                  {formatDue(task, now, tz)}
                </span>
              )}
              {task.due?.repeat && (
                <span className="repeat" data-testid="task-repeat" title="Repeats">
                  ↻ {formatRepeat(task.due.repeat)}
                </span>
              )}
              {PRIORITY_LABEL[task.priority] && (
                <span className="visually-hidden">{PRIORITY_LABEL[task.priority]}</span>
              )}
              {task.priority === "low" && <span className="prio-low">low</span>}
              {task.source?.url && (
                <a
                  className="source"
                  href={task.source.url}
                  target="_blank"
                  rel="noreferrer noopener"
                  data-testid="task-source"
                  title={task.source.title ?? task.source.url}
                >
                  {shortUrl(task.source.url)}
                </a>
              )}
            </div>
            {task.notes && (
              <p className="task-notes" data-testid="task-notes">
                {task.notes}
              </p>
            )}
          </div>
          <div className="task-actions">
            <button
              type="button"
              className="icon-button"
              onClick={() => setEditing(true)}
              aria-label={`Edit "${task.title}"`}
            >
              <EditIcon />
            </button>
            <button
              type="button"
              className="icon-button"
              onClick={() => onDelete(task)}
              aria-label={`Delete "${task.title}"`}
            >
              <TrashIcon />
            </button>
          </div>
        </>
      )}
    </li>
  );
}

function TaskEditor({
  task,
  onSave,
  onCancel,
}: {
  task: Task;
  onSave: (p: TaskPatch) => void;
  onCancel: () => void;
}) {
  const [title, setTitle] = useState(task.title);
  const [due, setDue] = useState(task.due?.phrase ?? task.due?.date ?? "");
  const [priority, setPriority] = useState<Priority>(task.priority);
  const [notes, setNotes] = useState(task.notes);
  const initialDue = task.due?.phrase ?? task.due?.date ?? "";
  const titleRef = useRef<HTMLInputElement>(null);
  useEffect(() => titleRef.current?.focus(), []);
  const submit = () => {
    const patch: TaskPatch = {};
    if (title.trim() !== task.title) patch.title = title.trim();
    if (due.trim() !== initialDue) patch.due = due.trim() ? due.trim() : null;
    if (priority !== task.priority) patch.priority = priority;
    if (notes !== task.notes) patch.notes = notes;
    if (Object.keys(patch).length === 0) onCancel();
    else onSave(patch);
  };
  const id = task.id;
  return (
    <form
      className="task-editor"
      aria-label={`Edit "${task.title}"`}
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
      onKeyDown={(e) => {
        if (e.key === "Escape") onCancel();
      }}
    >
      <label htmlFor={`title-${id}`}>Title</label>
      <input
        ref={titleRef}
        id={`title-${id}`}
        value={title}
        onChange={(e) => setTitle(e.target.value)}
        required
        maxLength={500}
      />
      <label htmlFor={`due-${id}`}>Due</label>
      <input
        id={`due-${id}`}
        value={due}
        onChange={(e) => setDue(e.target.value)}
        placeholder="e.g. friday 9am, every monday"
      />
      <label htmlFor={`priority-${id}`}>Priority</label>
      <select
        id={`priority-${id}`}
        value={priority}
        onChange={(e) => setPriority(e.target.value as Priority)}
      >
        <option value="high">High</option>
        <option value="medium">Medium</option>
        <option value="low">Low</option>
      </select>
      <label htmlFor={`notes-${id}`}>Notes</label>
      <textarea
        id={`notes-${id}`}
        value={notes}
        onChange={(e) => setNotes(e.target.value)}
        rows={3}
        maxLength={10000}
      />
      <div className="editor-actions">
        <button type="submit" className="primary">
          Save
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

// Drawn inline: emoji glyphs depend on fonts the machine may lack.
const iconProps = {
  viewBox: "0 0 24 24",
  fill: "none",
  stroke: "currentColor",
  strokeWidth: 2,
  strokeLinecap: "round",
  strokeLinejoin: "round",
} as const;

function EditIcon() {
  return (
    <svg {...iconProps} aria-hidden="true">
      <path d="M4 20h4L19 9l-4-4L4 16v4z" />
      <path d="M13.5 6.5l4 4" />
    </svg>
  );
}

function TrashIcon() {
  return (
    <svg {...iconProps} aria-hidden="true">
      <path d="M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3" />
    </svg>
  );
}
