import { ChatKit, useChatKit } from "@openai/chatkit-react";
import { useEffect, useMemo, useState, useSyncExternalStore } from "react";
import type { ShellBridge } from "./bridge.ts";
import { createChatKitFetch } from "./chatkit-fetch.ts";
import type { ShellConfig } from "./config.ts";
import type { SessionStore } from "./session.ts";

export const START_PROMPTS = [
  { label: "What's due today?", prompt: "What's due today?", icon: "calendar" },
  { label: "Save this page for tomorrow", prompt: "Save this page for tomorrow", icon: "notebook" },
  { label: "Make tasks from my selection", prompt: "Make tasks from my selection", icon: "check-circle" },
] as const;

export type LoadState = { state: "loading" } | { state: "loaded" } | { state: "failed"; reason: string };

type Props = { config: ShellConfig; store: SessionStore; bridge: ShellBridge; load: LoadState };

export function App({ config, store, bridge, load }: Props) {
  const session = useSyncExternalStore(store.subscribe, store.get);
  if (load.state === "failed") {
    return (
      <main className="notice" role="alert">
        <h1>Chat could not load</h1>
        <p>{load.reason}</p>
        <p>The side panel switches to its built-in chat.</p>
      </main>
    );
  }
  if (load.state === "loading" || !session.started || !config.domainKey) {
    return (
      <main className="notice">
        <p role="status">Connecting…</p>
      </main>
    );
  }
  return (
    <ChatPanel
      config={config}
      domainKey={config.domainKey}
      store={store}
      bridge={bridge}
      initialThread={session.initialThread}
      colorScheme={session.colorScheme}
    />
  );
}

function ChatPanel(props: {
  config: ShellConfig;
  domainKey: string;
  store: SessionStore;
  bridge: ShellBridge;
  initialThread: string | null;
  colorScheme: "light" | "dark" | null;
}) {
  const { bridge, store } = props;
  const systemScheme = usePreferredColorScheme();
  const apiFetch = useMemo(
    () =>
      createChatKitFetch({ session: store.get, onUnauthorized: () => bridge.send({ type: "auth-error" }) }),
    [store, bridge],
  );
  const { control } = useChatKit({
    api: { url: props.config.apiUrl, domainKey: props.domainKey, fetch: apiFetch },
    frameTitle: "Margin chat",
    initialThread: props.initialThread,
    theme: { colorScheme: props.colorScheme ?? systemScheme, density: "compact", radius: "soft" },
    history: { enabled: true, showDelete: true, showRename: true },
    startScreen: {
      greeting: "What should we do with your list?",
      prompts: START_PROMPTS.map((p) => ({ ...p })),
    },
    composer: { placeholder: "Ask about your tasks, or add one…" },
    onReady: () => bridge.send({ type: "ready" }),
    onEffect: ({ name, data }) => bridge.send({ type: "effect", name, data: data ?? {} }),
    onError: ({ error }) => bridge.send({ type: "error", message: error?.message || String(error) }),
    onThreadChange: ({ threadId }) => bridge.send({ type: "thread", threadId }),
  });
  return <ChatKit control={control} className="chatkit" />;
}

function usePreferredColorScheme(): "light" | "dark" {
  const query = "(prefers-color-scheme: dark)";
  const [dark, setDark] = useState(() => matchMedia(query).matches);
  useEffect(() => {
    const list = matchMedia(query);
    const onChange = () => setDark(list.matches);
    list.addEventListener("change", onChange);
    return () => list.removeEventListener("change", onChange);
  }, []);
  return dark ? "dark" : "light";
}
