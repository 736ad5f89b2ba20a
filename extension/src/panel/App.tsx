import { lazy, Suspense, useEffect, useState } from "react";
import { sessionItem } from "../auth/session.ts";
import { focusTaskItem } from "../background/open-panel.ts";
import { onMessage } from "../messaging/protocol.ts";
import { detectTimeZone, settingsItem } from "../settings/settings.ts";
import { PageCard } from "./PageCard.tsx";
import { QuickAdd } from "./QuickAdd.tsx";
import { SignInView } from "./SignInView.tsx";
import type { PanelStart } from "./start.ts";
import { TasksView } from "./TasksView.tsx";
import { ToastProvider, useToasts } from "./Toasts.tsx";
import { useCurrentPage } from "./use-page.ts";
import { useStorageItem } from "./use-storage.ts";
import { useTasks } from "./use-tasks.ts";

// Not needed for the first paint (the task list): loaded after it, so the panel's first script is smaller.
const loadChat = () => import("../chat/ChatView.tsx");
const loadSettings = () => import("./SettingsView.tsx");
const ChatView = lazy(() => loadChat().then((m) => ({ default: m.ChatView })));
const SettingsView = lazy(() => loadSettings().then((m) => ({ default: m.SettingsView })));

type View = "tasks" | "chat" | "settings";
const VIEWS: { id: View; label: string }[] = [
  { id: "tasks", label: "Tasks" },
  { id: "chat", label: "Chat" },
  { id: "settings", label: "Settings" },
];

/** `start`: the session and settings, read before React started (main.tsx). */
export function App({ start }: { start?: PanelStart }) {
  return (
    <ToastProvider>
      <Panel start={start} />
    </ToastProvider>
  );
}

function Panel({ start }: { start?: PanelStart }) {
  const session = useStorageItem(sessionItem, start?.session);
  const settings = useStorageItem(settingsItem, start?.settings);
  const [view, setView] = useState<View>(
    () => (new URLSearchParams(location.search).get("view") as View) || "tasks",
  );
  const { page, refresh } = useCurrentPage();
  const live = session && !session.expired ? session : null;
  const tasks = useTasks(live);
  const toasts = useToasts();

  // A capture sent from the page card: confirm it here, with Undo.
  useEffect(
    () =>
      onMessage("captureDelivered", ({ task }) => {
        tasks.actions.add(task);
        toasts.show(`Saved “${task.title}”`, { undo: () => void tasks.actions.remove(task.id) });
        return null;
      }),
    [tasks.actions, toasts],
  );
  useEffect(() => {
    const task = new URLSearchParams(location.search).get("task");
    if (task) void focusTaskItem.setValue(task);
    return focusTaskItem.watch((id) => id && setView("tasks"));
  }, []);

  const ready = session !== undefined && settings !== undefined;
  // The benchmark reads these: the first paint with content, and a usable list (loaded from the server).
  useEffect(() => {
    if (!ready || performance.getEntriesByName("margin:first-render").length > 0) return;
    performance.mark("margin:first-render");
    // Fetched while the user looks at the list, so switching views waits for nothing.
    const idle = requestIdleCallback(() => void Promise.all([loadChat(), loadSettings()]), { timeout: 2000 });
    return () => cancelIdleCallback(idle);
  }, [ready]);
  useEffect(() => {
    if (tasks.loaded && performance.getEntriesByName("margin:tasks-ready").length === 0)
      performance.mark("margin:tasks-ready");
    if (tasks.tasks.size > 0 && performance.getEntriesByName("margin:tasks-painted").length === 0)
      performance.mark("margin:tasks-painted");
  }, [tasks.loaded, tasks.tasks]);

  if (session === undefined || settings === undefined) return <div className="app" aria-busy="true" />;
  if (!live) {
    return (
      <div className="app">
        <SignInView settings={settings} expired={session?.expired ? session : null} />
      </div>
    );
  }
  const tz = live.user.timezone || detectTimeZone();
  return (
    <div className={view === "chat" ? "app app-chat" : "app"} data-stream={tasks.stream}>
      <header className="top">
        <nav className="views" aria-label="Views">
          {VIEWS.map((v) => (
            <button
              key={v.id}
              type="button"
              className={view === v.id ? "view-tab active" : "view-tab"}
              aria-current={view === v.id ? "page" : undefined}
              onClick={() => setView(v.id)}
              data-testid={`view-${v.id}`}
            >
              {v.label}
            </button>
          ))}
        </nav>
      </header>
      {tasks.stream === "reconnecting" && (
        <p className="banner banner-warn" role="status" data-testid="offline-banner">
          Can't reach Margin at {live.gatewayUrl}. Reconnecting… Captures are kept and sent when it's back.
        </p>
      )}
      {tasks.stream === "paused" && (
        <p className="banner banner-warn" role="status" data-testid="paused-banner">
          Live updates paused: newer Margin panels are open on this account.{" "}
          <button type="button" className="link-button" onClick={tasks.actions.catchUp}>
            Resume
          </button>
        </p>
      )}
      {tasks.error && (
        <p className="banner banner-error" role="alert" data-testid="error-banner">
          {tasks.error}{" "}
          <button type="button" className="link-button" onClick={tasks.actions.dismissError}>
            Dismiss
          </button>
        </p>
      )}
      {view !== "settings" && (
        <div className="capture">
          <PageCard page={page} onPermissionGranted={refresh} />
          {view === "tasks" && <QuickAdd connection={tasks.connection} />}
        </div>
      )}
      <main className="view">
        {view === "tasks" && <TasksView tasks={tasks} tz={tz} />}
        <Suspense
          fallback={
            <p className="muted" role="status">
              Loading…
            </p>
          }
        >
          {view === "chat" && tasks.connection && (
            <ChatView
              conn={tasks.connection}
              mode={settings.chatMode}
              page={page}
              onTasksChanged={tasks.actions.catchUp}
            />
          )}
          {view === "settings" && <SettingsView settings={settings} session={live} />}
        </Suspense>
      </main>
    </div>
  );
}
