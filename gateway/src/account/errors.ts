/** A refused account action (export, import, deletion): the HTTP status and code to answer with. */
export class AccountActionError extends Error {
  override name = "AccountActionError";
  readonly status: number;
  readonly code: string;
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, code: string, message: string, retryAfterSeconds?: number) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
