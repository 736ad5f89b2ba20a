import { type FormEvent, type KeyboardEvent, useEffect, useRef, useState } from "react";
import type { Connection } from "../api/client.ts";
import type { PageContext } from "./frame-protocol.ts";
import type { ThreadItem, WorkflowTask } from "./protocol.ts";
import { PENDING_ID } from "./reducer.ts";
import { useChat } from "./use-chat.ts";
import { Widget } from "./Widget.tsx";

type Props = {
  conn: Connection;
  page: PageContext | null;
  onEffect(name: string, data: Record<string, unknown>): void;
  /** Why ChatKit is not shown, when it was wanted. */
  fallbackReason?: string | null;
};

const SELECTION_PROMPT = "Make tasks from my selection";

/** The chat drawn by the panel itself from the ChatKit protocol (Firefox, no CDN, or chosen in settings). */
export function BuiltinChat({ conn, page, onEffect, fallbackReason }: Props) {
  const chat = useChat({ conn, page, onEffect });
  const { state } = chat;
  const [draft, setDraft] = useState("");
  const [showThreads, setShowThreads] = useState(false);
  const log = useRef<HTMLOListElement>(null);

  // Keep the newest message in view as items arrive and text streams in.
  const itemCount = state.items.length;
  const lastItem = state.items[itemCount - 1];
  useEffect(() => {
    const el = log.current;
    if (el && (itemCount || lastItem)) el.scrollTop = el.scrollHeight;
  }, [itemCount, lastItem]);

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    const text = draft.trim();
    if (!text || state.busy) return;
    setDraft("");
    void chat.send(text);
  };
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey) submit(e);
  };
  const toggleThreads = () => {
    if (!showThreads) void chat.loadThreads();
    setShowThreads(!showThreads);
  };

  return (
    <section className="chat" aria-labelledby="chat-title" data-testid="builtin-chat">
      <div className="chat-head">
        <h2 id="chat-title" className="chat-title">
          {state.title || "Chat"}
        </h2>
        <button type="button" aria-expanded={showThreads} onClick={toggleThreads} data-testid="chat-threads">
          History
        </button>
        <button
          type="button"
          onClick={() => {
            chat.newThread();
            setShowThreads(false);
          }}
          data-testid="chat-new"
        >
          New chat
        </button>
      </div>
      {fallbackReason && (
        <p className="banner banner-warn" role="status" data-testid="chat-fallback">
          ChatKit could not load: {fallbackReason.replace(/\.$/, "")}. This is Margin's built-in chat.
        </p>
      )}
      {showThreads && (
        <ThreadList
          chat={chat}
          onOpen={(id) => {
            void chat.open(id);
            setShowThreads(false);
          }}
        />
      )}
      <ol className="chat-log" ref={log} aria-label="Messages" aria-live="polite" data-testid="chat-log">
        {state.items.length === 0 && (
          <li className="muted chat-empty">Ask about your tasks, or tell me what to add.</li>
        )}
        {state.items.map((item) => (
          <Item
            key={item.id}
            item={item}
            busy={state.busy}
            onAction={(action) => void chat.action(item.id, action)}
          />
        ))}
        {state.busy && (
          <li className="muted" role="status">
            {state.progress ?? "Thinking…"}
          </li>
        )}
      </ol>
      {state.notice && (
        <p className={`banner ${state.notice.level === "info" ? "" : "banner-warn"}`} role="status">
          {state.notice.message}{" "}
          <button type="button" className="link-button" onClick={chat.dismiss}>
            Dismiss
          </button>
        </p>
      )}
      {state.error && (
        <p className="banner banner-error" role="alert" data-testid="chat-error">
          {state.error.message}{" "}
          {state.error.retry && (
            <button type="button" className="link-button" onClick={chat.retry} data-testid="chat-retry">
              Retry
            </button>
          )}{" "}
          <button type="button" className="link-button" onClick={chat.dismiss}>
            Dismiss
          </button>
        </p>
      )}
      {page?.selection && !state.busy && (
        <button
          type="button"
          className="chat-suggestion"
          onClick={() => void chat.send(SELECTION_PROMPT)}
          data-testid="chat-selection-prompt"
        >
          {SELECTION_PROMPT}
        </button>
      )}
      <form className="chat-composer" onSubmit={submit}>
        <label htmlFor="chat-input" className="visually-hidden">
          Message
        </label>
        <textarea
          id="chat-input"
          rows={2}
          value={draft}
          placeholder="Ask about your tasks, or add one…"
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={onKey}
          data-testid="chat-input"
        />
        {state.busy ? (
          <button type="button" onClick={chat.stop}>
            Stop
          </button>
        ) : (
          <button type="submit" className="primary" disabled={!draft.trim()} data-testid="chat-send">
            Send
          </button>
        )}
      </form>
    </section>
  );
}

function Item({
  item,
  busy,
  onAction,
}: {
  item: ThreadItem;
  busy: boolean;
  onAction: Parameters<typeof Widget>[0]["onAction"];
}) {
  switch (item.type) {
    case "user_message": {
      const unsent = item.id === PENDING_ID && !busy;
      return (
        <li
          className={`msg msg-user${item.id === PENDING_ID ? " pending" : ""}`}
          data-testid={unsent ? "chat-unsent" : "chat-user"}
        >
          <span className="visually-hidden">You: </span>
          {item.content.map((c) => c.text ?? "").join("")}
          {unsent && <span className="msg-unsent">Not sent</span>}
        </li>
      );
    }
    case "assistant_message":
      return (
        <li className="msg msg-assistant" data-testid="chat-assistant">
          <span className="visually-hidden">Margin: </span>
          {item.content.map((c) => c.text).join("\n")}
        </li>
      );
    case "widget":
      return (
        <li className="msg msg-widget" data-testid="chat-widget">
          <Widget node={item.widget} onAction={onAction} disabled={busy} />
        </li>
      );
    case "workflow":
      return (
        <li className="msg msg-workflow">
          <details>
            <summary>{item.workflow.summary?.title ?? "Steps"}</summary>
            <ul>
              {item.workflow.tasks.map((t, i) => (
                // Tasks only ever append or update in place (workflow.task.added/updated by index).
                // biome-ignore lint/suspicious/noArrayIndexKey: a workflow's tasks have no ids
                <li key={i}>{taskLine(t)}</li>
              ))}
            </ul>
          </details>
        </li>
      );
    case "task":
      return <li className="msg msg-workflow">{taskLine(item.task)}</li>;
    default:
      return null;
  }
}

const taskLine = (t: WorkflowTask) =>
  `${t.status_indicator === "loading" ? "… " : t.status_indicator === "complete" ? "✓ " : ""}${t.title ?? t.content ?? ""}`;

function ThreadList({ chat, onOpen }: { chat: ReturnType<typeof useChat>; onOpen(id: string): void }) {
  const [renaming, setRenaming] = useState<string | null>(null);
  const [title, setTitle] = useState("");
  const [paging, setPaging] = useState(false);
  if (!chat.threads) return <p role="status">Loading…</p>;
  if (chat.threads.list.length === 0) return <p className="muted">No earlier chats.</p>;
  const more = async () => {
    setPaging(true);
    await chat.moreThreads();
    setPaging(false);
  };
  return (
    <div className="chat-history">
      <ul className="chat-threads" aria-label="Earlier chats" data-testid="chat-thread-list">
        {chat.threads.list.map((t) => (
          <li key={t.id}>
            {renaming === t.id ? (
              <form
                onSubmit={(e) => {
                  e.preventDefault();
                  if (title.trim()) void chat.rename(t.id, title.trim());
                  setRenaming(null);
                }}
              >
                <label className="visually-hidden" htmlFor={`rename-${t.id}`}>
                  New name
                </label>
                <input
                  id={`rename-${t.id}`}
                  value={title}
                  onChange={(e) => setTitle(e.target.value)}
                  onKeyDown={(e) => e.key === "Escape" && setRenaming(null)}
                />
                <button type="submit">Save</button>
              </form>
            ) : (
              <>
                <button type="button" className="link-button" onClick={() => onOpen(t.id)}>
                  {t.title || "Untitled chat"}
                </button>
                <button
                  type="button"
                  aria-label={`Rename ${t.title || "Untitled chat"}`}
                  onClick={() => {
                    setTitle(t.title ?? "");
                    setRenaming(t.id);
                  }}
                >
                  Rename
                </button>
                <button
                  type="button"
                  aria-label={`Delete ${t.title || "Untitled chat"}`}
                  onClick={() => void chat.remove(t.id)}
                >
                  Delete
                </button>
              </>
            )}
          </li>
        ))}
      </ul>
      {chat.threads.after && (
        <button
          type="button"
          className="link-button"
          onClick={() => void more()}
          disabled={paging}
          data-testid="chat-threads-more"
        >
          {paging ? "Loading…" : "Show more"}
        </button>
      )}
    </div>
  );
}
