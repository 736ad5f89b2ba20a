import type { PageContext, PanelMessage } from "./protocol.ts";

export type Session = {
  /** True once the panel's `init` arrived. */
  started: boolean;
  token: string | null;
  page: PageContext | null;
  initialThread: string | null;
  colorScheme: "light" | "dark" | null;
};

/** What the panel told this page, as a tiny external store for React (useSyncExternalStore). */
export function createSessionStore() {
  let session: Session = { started: false, token: null, page: null, initialThread: null, colorScheme: null };
  const listeners = new Set<() => void>();
  const set = (next: Session) => {
    session = next;
    for (const listener of listeners) listener();
  };
  return {
    get: () => session,
    subscribe(listener: () => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    apply(message: PanelMessage) {
      if (message.type === "init") {
        set({
          started: true,
          token: message.token,
          page: message.page ?? null,
          initialThread: message.threadId ?? null,
          colorScheme: message.colorScheme ?? null,
        });
      } else if (message.type === "token") {
        set({ ...session, token: message.token });
      } else {
        set({ ...session, page: message.page });
      }
    },
  };
}
export type SessionStore = ReturnType<typeof createSessionStore>;
