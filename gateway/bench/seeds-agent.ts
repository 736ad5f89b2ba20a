import { Agent, MCPServerStreamableHttp, type Model, Runner } from "@openai/agents";
import type { AgentEvent, ChatAgent, TurnInput } from "../src/agent/contract.ts";
import { signMcpToken } from "../src/mcp-server/token.ts";

/**
 * The seed designs' agent, as the yardstick of the chat benchmark: every turn opens a new MCP connection
 * (discover probe, initialize, initialized), lists the tools before each model call, and closes. It speaks the
 * same `ChatAgent` contract as ours, so both run behind the same gateway and differ only in how they use MCP.
 */
export function createSeedsPatternAgent(opts: { mcpUrl: URL; tokenSecret: string; model: Model }): ChatAgent {
  const runner = new Runner({ tracingDisabled: true });
  let connections = 0;
  return {
    provider: "seeds-pattern",
    model: "scripted",
    async *runTurn(input: TurnInput): AsyncIterable<AgentEvent> {
      const token = await signMcpToken(opts.tokenSecret, {
        userId: input.user.id,
        tz: input.user.timezone,
        audience: opts.mcpUrl,
      });
      const mcp = new MCPServerStreamableHttp({
        url: opts.mcpUrl.href,
        name: `seeds-${++connections}`,
        authProvider: { token: async () => token },
      });
      await mcp.connect();
      try {
        const agent = new Agent({
          name: "seeds",
          instructions: "You manage the user's todo list using the tools.",
          model: opts.model,
          mcpServers: [mcp],
        });
        const result = await runner.run(agent, [...input.history, { role: "user", content: input.message }], {
          stream: true,
          signal: input.signal,
          maxTurns: 8,
        });
        for await (const event of result) {
          if (event.type === "raw_model_stream_event" && event.data.type === "output_text_delta") {
            yield { type: "text.delta", delta: event.data.delta };
          } else if (event.type === "run_item_stream_event" && event.item.type === "tool_call_item") {
            const call = event.item.rawItem;
            if (call.type !== "function_call") continue;
            const args = JSON.parse(call.arguments) as Record<string, unknown>;
            yield { type: "tool.started", callId: call.callId, tool: call.name, args, label: call.name };
          } else if (event.type === "run_item_stream_event" && event.item.type === "tool_call_output_item") {
            const output = event.item.rawItem;
            if (output.type !== "function_call_result") continue;
            yield {
              type: "tool.finished",
              callId: output.callId,
              tool: output.name,
              args: {},
              ok: true,
              summary: `${output.name} done`,
              wrote: output.name !== "list_tasks",
            };
          }
        }
        await result.completed;
        yield { type: "text.done", text: String(result.finalOutput ?? "") };
      } finally {
        await mcp.close();
      }
    },
    async *runConfirmed() {
      // The seeds had no confirmations; the benchmark never asks for one.
    },
    readConfirmationReply: () => undefined,
    async close() {},
  };
}

/**
 * No model and no MCP: the events of a one-tool turn, at once. Run behind the same gateway, it measures the
 * ChatKit server's own share of a turn (auth, turn limit, storage, SSE), so the rest is the agent and MCP.
 */
export function createEventsOnlyAgent(): ChatAgent {
  let calls = 0;
  return {
    provider: "events-only",
    model: "none",
    async *runTurn(): AsyncIterable<AgentEvent> {
      const callId = `call_${++calls}`;
      const args = { title: "Benchmark task" };
      yield { type: "tool.started", callId, tool: "add_task", args, label: "Adding a task" };
      yield {
        type: "tool.finished",
        callId,
        tool: "add_task",
        args,
        ok: true,
        summary: "Added",
        wrote: true,
      };
      yield { type: "text.delta", delta: "Added it." };
      yield { type: "text.done", text: "Added it." };
    },
    async *runConfirmed() {},
    readConfirmationReply: () => undefined,
    async close() {},
  };
}
