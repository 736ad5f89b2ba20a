import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";

/**
 * The task service (MCP server) could not answer. `unavailable` (down, unreachable, timed out) is worth a retry
 * and maps to 503; anything else is a fault between gateway and MCP server and maps to 502.
 */
export class TaskServiceError extends Error {
  override name = "TaskServiceError";
  readonly unavailable: boolean;

  constructor(message: string, unavailable: boolean, cause?: unknown) {
    super(message, { cause });
    this.unavailable = unavailable;
  }

  static from(err: unknown): TaskServiceError {
    if (err instanceof TaskServiceError) return err;
    if (err instanceof McpError && err.code === ErrorCode.RequestTimeout) {
      return new TaskServiceError("The task service did not answer in time. Try again shortly.", true, err);
    }
    if (
      isNetworkFailure(err) ||
      httpStatusOf(err) >= 500 ||
      (err instanceof Error && err.name === "TimeoutError")
    ) {
      return new TaskServiceError("The task service is unavailable. Try again shortly.", true, err);
    }
    return new TaskServiceError("The task service refused the gateway's request.", false, err);
  }
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "ETIMEDOUT",
  "EPIPE",
  "UND_ERR_SOCKET",
]);

function isNetworkFailure(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code && NETWORK_CODES.has(code)) return true;
    if (e instanceof TypeError && e.message === "fetch failed") return true;
  }
  return false;
}

function httpStatusOf(err: unknown): number {
  return err instanceof StreamableHTTPError && typeof err.code === "number" ? err.code : 0;
}
