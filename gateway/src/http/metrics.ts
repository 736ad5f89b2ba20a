import type { RequestHandler } from "express";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Prometheus metrics of one gateway process. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "margin_" });
  const requests = new Counter({
    name: "margin_http_requests_total",
    help: "HTTP requests by method, route and status",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "margin_http_request_duration_seconds",
    help: "HTTP request latency",
    labelNames: ["method", "route"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  let openStreams = () => 0;
  new Gauge({
    name: "margin_sse_connections",
    help: "Open change streams (GET /api/changes)",
    registers: [registry],
    collect() {
      this.set(openStreams());
    },
  });
  const mcpCalls = new Histogram({
    name: "margin_mcp_call_duration_seconds",
    help: "MCP tool calls from the gateway to the task service, by tool and outcome",
    labelNames: ["tool", "outcome"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });
  const mcpErrors = new Counter({
    name: "margin_mcp_call_errors_total",
    help: "MCP tool calls that failed, by tool and kind",
    labelNames: ["tool", "kind"] as const,
    registers: [registry],
  });

  const observeRequests: RequestHandler = (req, res, next) => {
    const end = latency.startTimer();
    res.once("finish", () => {
      // The matched route pattern keeps label cardinality bounded (never raw ids).
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : "unmatched";
      requests.inc({ method: req.method, route, status: res.statusCode });
      end({ method: req.method, route });
    });
    next();
  };

  return {
    registry,
    /** Where the SSE gauge reads the number of open streams from. */
    countStreamsWith(count: () => number) {
      openStreams = count;
    },
    observeRequests,
    recordMcpCall(tool: string, seconds: number, outcome: "ok" | "tool_error" | "unavailable" | "failed") {
      mcpCalls.observe({ tool, outcome }, seconds);
      if (outcome === "unavailable" || outcome === "failed") mcpErrors.inc({ tool, kind: outcome });
    },
    handler: (async (_req, res) => {
      res.set("content-type", registry.contentType).send(await registry.metrics());
    }) satisfies RequestHandler,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
