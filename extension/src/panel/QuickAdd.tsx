import { useEffect, useRef, useState } from "react";
import type { Connection } from "../api/client.ts";
import { tasksApi } from "../api/client.ts";
import type { TitlePreview } from "../api/schemas.ts";
import { sendMessage } from "../messaging/protocol.ts";
import { useToasts } from "./Toasts.tsx";

const PREVIEW_DELAY_MS = 250;

/** Type a task; a date in it shows as a chip (removable) before Enter saves it. */
export function QuickAdd({ connection }: { connection: Connection | null }) {
  const [text, setText] = useState("");
  const [preview, setPreview] = useState<TitlePreview | null>(null);
  const [dismissed, setDismissed] = useState<string | null>(null);
  const toasts = useToasts();
  const inputRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    setPreview(null);
    const phrase = text.trim();
    if (!connection || phrase.length < 3) return;
    const ctrl = new AbortController();
    const timer = setTimeout(() => {
      tasksApi(connection)
        .previewTitle(phrase, ctrl.signal)
        .then(
          (p) => setPreview(p.due ? p : null),
          () => setPreview(null),
        );
    }, PREVIEW_DELAY_MS);
    return () => {
      clearTimeout(timer);
      ctrl.abort();
    };
  }, [text, connection]);

  const chipShown = preview && dismissed !== text.trim();

  const submit = async () => {
    const title = text.trim();
    if (!title) return;
    try {
      // With the chip removed, the date words stay in the title and no due is taken from them.
      await sendMessage("addTask", { task: { title, extract_due: !!chipShown } });
      setText("");
      setPreview(null);
      setDismissed(null);
    } catch (err) {
      toasts.show(`Could not add: ${(err as Error).message}`, { kind: "error" });
    }
  };

  return (
    <form
      className="quick-add"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <label htmlFor="quick-add" className="visually-hidden">
        Add a task
      </label>
      <input
        id="quick-add"
        ref={inputRef}
        data-testid="quick-add"
        value={text}
        placeholder="Add a task… e.g. call mom 5pm"
        autoComplete="off"
        maxLength={500}
        onChange={(e) => setText(e.target.value)}
      />
      {chipShown && (
        <span className="chip" data-testid="due-chip">
          <span>
            <span className="muted">Due </span>
            {preview.due?.text}
          </span>
          <button
            type="button"
            className="chip-remove"
            aria-label="Don't use this date"
            onClick={() => {
              setDismissed(text.trim());
              inputRef.current?.focus();
            }}
          >
            ×
          </button>
        </span>
      )}
    </form>
  );
}
