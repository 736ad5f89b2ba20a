import { createContext, type ReactNode, useCallback, useContext, useMemo, useRef, useState } from "react";

type Toast = { id: number; text: string; undo?: () => void; kind: "info" | "error" };
type ToastApi = { show: (text: string, opts?: { undo?: () => void; kind?: Toast["kind"] }) => void };

const ToastContext = createContext<ToastApi>({ show: () => {} });
export const useToasts = () => useContext(ToastContext);

const TOAST_MS = 10_000;

/** Short confirmations with Undo ("Completed", "Deleted", "Saved"); announced to screen readers. */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);
  const dismiss = useCallback((id: number) => setToasts((t) => t.filter((x) => x.id !== id)), []);
  const api = useMemo<ToastApi>(
    () => ({
      show(text, opts = {}) {
        const id = next.current++;
        setToasts((t) => [...t.slice(-2), { id, text, undo: opts.undo, kind: opts.kind ?? "info" }]);
        setTimeout(() => dismiss(id), TOAST_MS);
      },
    }),
    [dismiss],
  );
  return (
    <ToastContext.Provider value={api}>
      {children}
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className={`toast toast-${t.kind}`} data-testid="toast">
            <span>{t.text}</span>
            {t.undo && (
              <button
                type="button"
                className="link-button"
                onClick={() => {
                  t.undo?.();
                  dismiss(t.id);
                }}
              >
                Undo
              </button>
            )}
            <button type="button" className="icon-button" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}
