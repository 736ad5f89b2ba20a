import { useEffect, useMemo, useState } from "react";
import type { Task, TaskPatch } from "../api/schemas.ts";
import { focusTaskItem } from "../background/open-panel.ts";
import type { OutboxEntry } from "../outbox/outbox.ts";
import { outboxItem } from "../outbox/outbox.ts";
import { selectTasks, type TaskFilter } from "../tasks/views.ts";
import { OutboxList } from "./OutboxList.tsx";
import { TaskItem } from "./TaskItem.tsx";
import { useToasts } from "./Toasts.tsx";
import { useStorageItem } from "./use-storage.ts";
import type { useTasks } from "./use-tasks.ts";

const FILTERS: { id: TaskFilter; label: string }[] = [
  { id: "today", label: "Today" },
  { id: "upcoming", label: "Upcoming" },
  { id: "all", label: "All" },
  { id: "done", label: "Done" },
];

const EMPTY: Record<TaskFilter, string> = {
  today: "Nothing due today.",
  upcoming: "Nothing scheduled ahead.",
  all: "No open tasks. Save this page or type one above.",
  done: "No completed tasks yet.",
};

/** Today / Upcoming / All / Done, searchable, with the outbox's waiting captures on top. */
export function TasksView({ tasks: state, tz }: { tasks: ReturnType<typeof useTasks>; tz: string }) {
  const [filter, setFilter] = useState<TaskFilter>("today");
  const [query, setQuery] = useState("");
  const [now, setNow] = useState(() => new Date());
  const toasts = useToasts();
  const outbox = useStorageItem(outboxItem) ?? [];
  const focusTask = useStorageItem(focusTaskItem);
  const { actions } = state;

  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), 30_000);
    return () => clearInterval(timer);
  }, []);
  // A reminder click opens the panel on its task: show it in All.
  useEffect(() => {
    if (focusTask) setFilter("all");
  }, [focusTask]);

  const visible = useMemo(
    () => selectTasks(state.tasks.values(), filter, { now, tz, query }),
    [state.tasks, filter, now, tz, query],
  );

  const toggle = (task: Task) => {
    if (task.status === "completed") {
      void actions.reopen(task.id);
      return;
    }
    void actions.complete(task.id).then((done) => {
      if (done) toasts.show(`Completed “${task.title}”`, { undo: () => void actions.reopen(task.id) });
    });
  };
  const remove = (task: Task) => {
    void actions.remove(task.id).then((gone) => {
      if (gone) toasts.show(`Deleted “${task.title}”`, { undo: () => void actions.restore(task.id) });
    });
  };
  const save = async (task: Task, patch: TaskPatch) => (await actions.update(task.id, patch)) !== null;

  const waiting: OutboxEntry[] = outbox;
  return (
    <section className="tasks-view" aria-label="Tasks">
      <fieldset className="filters">
        <legend className="visually-hidden">Show</legend>
        {FILTERS.map((f) => (
          <button
            key={f.id}
            type="button"
            aria-pressed={filter === f.id}
            className={filter === f.id ? "filter active" : "filter"}
            onClick={() => setFilter(f.id)}
            data-testid={`filter-${f.id}`}
          >
            {f.label}
          </button>
        ))}
      </fieldset>
      <label htmlFor="task-search" className="visually-hidden">
        Search tasks
      </label>
      <input
        id="task-search"
        type="search"
        className="search"
        placeholder="Search tasks"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        data-testid="search"
      />
      {waiting.length > 0 && <OutboxList entries={waiting} />}
      {!state.loaded && state.tasks.size === 0 ? (
        <p className="muted" data-testid="tasks-loading">
          Loading tasks…
        </p>
      ) : visible.length === 0 ? (
        <p className="muted empty" data-testid="tasks-empty">
          {query ? `No tasks match “${query}”.` : EMPTY[filter]}
        </p>
      ) : (
        <ul
          className="task-list"
          data-testid="task-list"
          aria-label={`${FILTERS.find((f) => f.id === filter)?.label} tasks`}
        >
          {visible.map((t) => (
            <TaskItem
              key={t.id}
              task={t}
              now={now}
              tz={tz}
              focused={focusTask === t.id}
              onToggle={toggle}
              onDelete={remove}
              onSave={save}
            />
          ))}
        </ul>
      )}
    </section>
  );
}
