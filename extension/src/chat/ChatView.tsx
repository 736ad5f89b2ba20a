import { useCallback, useMemo, useState } from "react";
import type { Connection } from "../api/client.ts";
import type { PageInfo } from "../capture/page.ts";
import type { ChatMode } from "../settings/settings.ts";
import { BuiltinChat } from "./BuiltinChat.tsx";
import { ChatKitFrame } from "./ChatKitFrame.tsx";
import { toPageContext } from "./frame-protocol.ts";
import "./chat.css";

type Props = {
  conn: Connection;
  mode: ChatMode;
  page: PageInfo | null;
  /** A chat turn changed tasks (the `tasks.changed` client effect). */
  onTasksChanged(): void;
};

/** The chat view: ChatKit in its frame when chosen and loadable, else the built-in chat. */
export function ChatView({ conn, mode, page, onTasksChanged }: Props) {
  const [fallback, setFallback] = useState<string | null>(null);
  // Compared by value: a new page object per selection tick must not re-send an equal context to the frame.
  const { url, title = "", selection, excerpt } = page ?? {};
  const context = useMemo(
    () => (url ? toPageContext({ url, title, selection, excerpt }) : null),
    [url, title, selection, excerpt],
  );
  const onEffect = useCallback(
    (name: string) => {
      if (name === "tasks.changed") onTasksChanged();
    },
    [onTasksChanged],
  );
  if (mode === "chatkit" && fallback === null)
    return <ChatKitFrame conn={conn} page={context} onEffect={onEffect} onUnavailable={setFallback} />;
  return (
    <BuiltinChat
      conn={conn}
      page={context}
      onEffect={onEffect}
      fallbackReason={mode === "chatkit" ? fallback : null}
    />
  );
}
