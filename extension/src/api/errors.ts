/** The gateway could not be reached (network down, server stopped, timeout). Worth retrying. */
export class GatewayUnreachableError extends Error {
  override name = "GatewayUnreachableError";
}

/** The gateway answered with an error. `status` 401 means the session is gone. */
export class ApiError extends Error {
  override name = "ApiError";
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const isSessionExpired = (err: unknown): boolean => err instanceof ApiError && err.status === 401;

/** Errors a later retry can fix on its own: the network, the server, throttling, a lapsed session. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof GatewayUnreachableError) return true;
  if (!(err instanceof ApiError)) return false;
  return err.status >= 500 || err.status === 401 || err.status === 408 || err.status === 429;
}

/** One line for a person: what went wrong and what to do. */
export function describeError(err: unknown): string {
  if (err instanceof GatewayUnreachableError)
    return "Can't reach the Margin server. Check that it is running; changes are kept and sent when it's back.";
  if (isSessionExpired(err)) return "Your session has expired. Sign in again.";
  // better-auth refuses origins it was not told about: the extension's own origin must be on the server's list.
  if (err instanceof ApiError && err.status === 403 && /origin/i.test(err.message))
    return `This Margin server does not accept this browser yet. Add ${globalThis.location?.origin ?? "the extension's origin"} to the server's EXTENSION_ORIGINS and restart it.`;
  if (err instanceof ApiError) return err.message;
  return err instanceof Error ? err.message : String(err);
}
