/**
 * Errors of the task domain. `code` is stable (the HTTP and MCP layers map it); `message` says what to fix
 * and is safe to show to a user or a model.
 */
export class TaskError extends Error {
  override name = "TaskError";
  readonly code: "not_found" | "invalid_input" | "idempotency_conflict";

  constructor(code: TaskError["code"], message: string) {
    super(message);
    this.code = code;
  }
}

export class TaskNotFoundError extends TaskError {
  override name = "TaskNotFoundError";

  constructor(taskId: string) {
    super("not_found", `No task with id ${taskId}. Call list_tasks to find the task's id.`);
  }
}

export class InvalidTaskInputError extends TaskError {
  override name = "InvalidTaskInputError";

  constructor(message: string) {
    super("invalid_input", message);
  }
}

export class IdempotencyConflictError extends TaskError {
  override name = "IdempotencyConflictError";

  constructor() {
    super(
      "idempotency_conflict",
      "This idempotency key was already used for a different request. Use a new key for a new task; only an " +
        "identical retry gets the first task back.",
    );
  }
}
