import type { Task } from "../api/schemas.ts";

let n = 0;

/** A task as the gateway sends it, with overrides. */
export function makeTask(overrides: Partial<Task> = {}): Task {
  n++;
  const stamp = "2026-11-28T10:00:00.000Z";
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    title: `task ${n}`,
    notes: "",
    status: "pending",
    priority: "medium",
    due: null,
    labels: [],
    source: null,
    created_at: stamp,
    updated_at: stamp,
    completed_at: null,
    deleted_at: null,
    ...overrides,
  };
}

export function timedDue(at: string, tz = "UTC"): Task["due"] {
  return {
    at,
    date: at.slice(0, 10),
    time: at.slice(11, 16),
    date_only: false,
    tz,
    phrase: null,
    repeat: null,
    rrule: null,
  };
}
