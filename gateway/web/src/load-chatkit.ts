type ScriptDocument = {
  createElement(tag: "script"): HTMLScriptElement;
  head: { append(node: Node): void };
};
type Registry = { whenDefined(name: string): Promise<unknown>; get(name: string): unknown };

export class ChatKitUnavailableError extends Error {
  override name = "ChatKitUnavailableError";
}

/**
 * Loads OpenAI's ChatKit script and waits until it defines <openai-chatkit>. Rejects with a reason a person can
 * read when the script cannot be fetched (offline, blocked) or defines nothing within `timeoutMs`.
 */
export function loadChatKit(opts: {
  src: string;
  timeoutMs: number;
  document: ScriptDocument;
  customElements: Registry;
}): Promise<void> {
  if (opts.customElements.get("openai-chatkit")) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new ChatKitUnavailableError(`ChatKit did not start within ${opts.timeoutMs / 1000} s.`)),
      opts.timeoutMs,
    );
    const script = opts.document.createElement("script");
    script.src = opts.src;
    script.async = true;
    script.addEventListener("error", () => {
      clearTimeout(timer);
      reject(
        new ChatKitUnavailableError(`ChatKit's script could not be loaded from ${new URL(opts.src).host}.`),
      );
    });
    opts.customElements.whenDefined("openai-chatkit").then(() => {
      clearTimeout(timer);
      resolve();
    });
    opts.document.head.append(script);
  });
}
