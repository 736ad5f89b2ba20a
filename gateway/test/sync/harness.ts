import type { AddressInfo } from "node:net";
import express from "express";
import type { Database } from "../../src/db/connect.ts";
import { createLogger } from "../../src/logger.ts";
import { type ChangeFeed, createChangeFeed } from "../../src/sync/change-feed.ts";
import { changesHandler } from "../../src/sync/sse.ts";
import { createStreamRegistry } from "../../src/sync/streams.ts";
import { openSse, type SseStream } from "./sse-client.ts";

export type SyncGateway = {
  /** Base URL, e.g. `http://127.0.0.1:PORT`. */
  url: string;
  feed: ChangeFeed;
  /** Opens `GET /api/changes` as `userId`. */
  stream(userId: string, opts?: { lastEventId?: string; query?: string }): Promise<SseStream>;
  close(): Promise<void>;
};

/**
 * One "gateway instance": a change feed on its own listen connection and `/api/changes` on a real port.
 * The test-only auth stand-in trusts an `x-test-user` header; the real auth wiring is tested elsewhere.
 */
export async function startSyncGateway(
  database: Database,
  opts: { heartbeatMs?: number; batchLimit?: number } = {},
): Promise<SyncGateway> {
  const feed = createChangeFeed(database, { logger: createLogger("silent"), batchLimit: opts.batchLimit });
  await feed.start();
  const app = express();
  app.use((req, res, next) => {
    const id = req.get("x-test-user");
    if (id) {
      res.locals.user = { id };
      res.locals.session = { id: `session-of-${id}`, expiresAt: new Date(Date.now() + 3_600_000) };
    }
    next();
  });
  // No auth changes here: sessions are the test stand-in's, never revoked.
  const noAuthChanges = {
    start: async () => {},
    subscribe: () => () => {},
    liveSessionIds: async (ids: string[]) => new Set(ids),
    close: async () => {},
  };
  const registry = createStreamRegistry(noAuthChanges, { maxPerUser: 1000, logger: createLogger("silent") });
  app.get("/api/changes", changesHandler(feed, { heartbeatMs: opts.heartbeatMs, streams: registry }));
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const streams: SseStream[] = [];

  return {
    url: base,
    feed,
    async stream(userId, { lastEventId, query } = {}) {
      const headers: Record<string, string> = { "x-test-user": userId };
      if (lastEventId !== undefined) headers["last-event-id"] = lastEventId;
      const stream = await openSse(`${base}/api/changes${query ?? ""}`, headers);
      streams.push(stream);
      return stream;
    },
    async close() {
      for (const s of streams) s.close();
      await feed.close();
      const closing = new Promise((resolve) => server.close(resolve));
      // fetch's pooled keep-alive sockets would otherwise hold close() for seconds.
      server.closeAllConnections();
      await closing;
    },
  };
}
