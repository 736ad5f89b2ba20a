import type { AgentInputItem } from "@openai/agents";

/**
 * What `chatkit/` needs from `agent/`: one chat turn in, a stream of turn events out. The ChatKit server turns
 * these events into thread items (assistant messages, workflow tasks, task-list widgets, confirmation cards) and
 * builds `history` from the items it stored; the agent knows nothing about ChatKit.
 */

/** The page the user is on, as the panel sends it in `metadata.page`. Untrusted: data, never instructions. */
export type PageContext = {
  url: string;
  title: string;
  selection?: string;
  excerpt?: string;
};

/** The verified user a turn runs for; the agent signs its own short-lived MCP token from this. */
export type AgentUser = { id: string; timezone: string };

export type TurnInput = {
  user: AgentUser;
  /** Earlier turns, oldest first, as the model should read them (built by the ChatKit server from stored items). */
  history: AgentInputItem[];
  /** This turn's user text. */
  message: string;
  page?: PageContext;
  /** How the user reads times ("en-US-u-hc-h12"), for what the model words itself (the offline model). */
  locale?: string;
  /** Aborted when the client disconnects: the model call and any MCP call in flight stop. */
  signal: AbortSignal;
  /**
   * Settles once the user's message is stored. The turn may start before (its first model call overlapping the
   * commit), but no tool runs until then: a message that failed to save has changed nothing.
   */
  stored?: Promise<unknown>;
};

/** A task write or read the agent made, with a line a person can read ("Added 'Buy milk' · due tomorrow 17:00"). */
export type ToolActivity = {
  callId: string;
  tool: string;
  args: Record<string, unknown>;
};

/** Writes held back until the user confirms them in a later message or with the card's button. */
export type PendingConfirmation = {
  id: string;
  /** Shown to the user, e.g. "Delete 3 tasks: 'A', 'B', 'C'?" */
  prompt: string;
  calls: { tool: string; args: Record<string, unknown>; label: string }[];
};

export type AgentEvent =
  /** A piece of the assistant's answer. */
  | { type: "text.delta"; delta: string }
  /** The end of one assistant message (its full text); more text after this starts a new message. */
  | { type: "text.done"; text: string }
  | ({ type: "tool.started"; label: string } & ToolActivity)
  | ({
      type: "tool.finished";
      ok: boolean;
      /** One human line: what happened, or what went wrong, in words. */
      summary: string;
      /** The tool's `structuredContent` (a task, or a page of tasks for list_tasks). */
      structured?: Record<string, unknown>;
      /** True when the tool changed the user's tasks (the panel refreshes on a `tasks.changed` effect). */
      wrote: boolean;
    } & ToolActivity)
  | { type: "confirmation.required"; confirmation: PendingConfirmation };

/** A turn that failed, with a message a user understands; `retryable` tells the UI whether to offer "retry". */
export class AgentTurnError extends Error {
  override name = "AgentTurnError";
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.retryable = retryable;
  }
}

export interface ChatAgent {
  readonly provider: string;
  readonly model: string;
  /** Runs one turn. The iterator ends when the turn is done; it throws an `AgentTurnError` on failure. */
  runTurn(input: TurnInput): AsyncIterable<AgentEvent>;
  /** Runs writes the user confirmed (by button or by answering yes), through MCP, as the same user. */
  runConfirmed(input: {
    user: AgentUser;
    confirmation: PendingConfirmation;
    signal: AbortSignal;
  }): AsyncIterable<AgentEvent>;
  /** Whether a message answers a pending confirmation with yes / no / neither. */
  readConfirmationReply(message: string): "yes" | "no" | undefined;
  close(): Promise<void>;
}
