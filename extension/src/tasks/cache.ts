import { storage } from "wxt/utils/storage";
import type { Task } from "../api/schemas.ts";

/**
 * The open tasks as last seen, kept by whoever saw them last (the panel live, the background on its
 * periodic sync). The badge and reminders follow it; the panel paints from it before the network answers.
 */
export type TasksCache = { tasks: Task[]; syncedAt: number; userId: string };

export const tasksCacheItem = storage.defineItem<TasksCache | null>("local:tasks-cache", {
  fallback: null,
  version: 1,
});
