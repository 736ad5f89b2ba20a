/**
 * A request the ChatKit server refuses before any event is streamed: answered as HTTP `status` with
 * `{ error: { code, message } }`. Another user's thread or item is "not found", never "forbidden".
 */
export class ChatKitError extends Error {
  override name = "ChatKitError";
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }

  static notFound(what: "thread" | "item" | "attachment"): ChatKitError {
    return new ChatKitError(404, "not_found", `No such ${what}.`);
  }
}

/** A failure inside a stream, shown to the user as an `error` event with this message. */
export class StreamError extends Error {
  override name = "StreamError";
  readonly allowRetry: boolean;

  constructor(message: string, allowRetry: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.allowRetry = allowRetry;
  }
}
