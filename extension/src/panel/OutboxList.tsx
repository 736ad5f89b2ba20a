import { useState } from "react";
import { sendMessage } from "../messaging/protocol.ts";
import type { OutboxEntry } from "../outbox/outbox.ts";

/** Captures not confirmed by the server yet ("pending"), and refused ones kept for editing. */
export function OutboxList({ entries }: { entries: OutboxEntry[] }) {
  return (
    <ul className="task-list outbox" aria-label="Waiting to be saved" data-testid="outbox">
      {entries.map((e) => (
        <OutboxRow key={e.id} entry={e} />
      ))}
    </ul>
  );
}

function OutboxRow({ entry }: { entry: OutboxEntry }) {
  const [title, setTitle] = useState(entry.task.title);
  if (entry.state === "rejected") {
    return (
      <li className="task rejected" data-testid="outbox-rejected">
        <form
          className="task-editor"
          onSubmit={(e) => {
            e.preventDefault();
            void sendMessage("outboxEdit", { id: entry.id, task: { ...entry.task, title: title.trim() } });
          }}
        >
          <p className="error-text" role="alert">
            Not saved: {entry.rejection?.message}
          </p>
          <label htmlFor={`outbox-${entry.id}`}>Title</label>
          <input id={`outbox-${entry.id}`} value={title} onChange={(e) => setTitle(e.target.value)} />
          <div className="editor-actions">
            <button type="submit" className="primary">
              Save again
            </button>
            <button type="button" onClick={() => void sendMessage("outboxDiscard", { id: entry.id })}>
              Discard
            </button>
          </div>
        </form>
      </li>
    );
  }
  return (
    <li className="task pending" data-testid="outbox-pending">
      <span className="pending-dot" aria-hidden="true" />
      <div className="task-body">
        <span className="task-title">{entry.task.title}</span>
        <div className="task-meta">
          <span className="badge-pending">pending</span>
          {entry.lastError && <span className="muted">{entry.lastError}</span>}
        </div>
      </div>
      <div className="task-actions">
        <button type="button" className="link-button" onClick={() => void sendMessage("outboxRetry", null)}>
          Retry now
        </button>
      </div>
    </li>
  );
}
