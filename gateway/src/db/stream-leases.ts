import { randomUUID } from "node:crypto";
import { and, count, eq, lt, lte, notInArray, or, sql } from "drizzle-orm";
import type { Logger } from "../logger.ts";
import type { Db } from "./connect.ts";
import { streamLeases } from "./limits-schema.ts";

/**
 * The per-user limit on open live streams, shared by every gateway instance through `stream_leases`.
 *
 * A stream limit counts what is open now, not what happened in a window, so rate-limiter-flexible's counters
 * don't fit: a key's points all expire together, so streams that stay open would stop counting at the end of
 * the window. Instead each open stream holds a row that its instance renews; a row nobody renews (its instance
 * died without closing its streams) stops counting when it expires, and is deleted then.
 */
export type StreamLeases = {
  /** Takes one of the user's stream slots: a lease to release when the stream ends, or how long to wait. */
  acquire(userId: string): Promise<StreamLease | { retryAfterSeconds: number }>;
  /** Stops renewing and gives back this instance's leases (its streams are closing). */
  close(): Promise<void>;
};

export type StreamLease = { release(): void };

export type StreamLeaseOptions = {
  maxPerUser: number;
  /** How long a lease counts without renewal: the longest a dead instance's streams keep their slots. */
  leaseMs: number;
  logger: Logger;
  /**
   * The database can only be open in this process (the embedded one: its folder is locked to one process), so
   * a lease of an instance not running here is a previous run's that ended without closing its streams.
   */
  soleProcess?: boolean;
};

// The instances running in this process: with `soleProcess`, only their leases count.
const instancesHere = new Set<string>();

// pg_advisory_xact_lock(namespace, key): a namespace of our own, so no other advisory lock can collide.
const LOCK_NAMESPACE = 0x5354_524d; // "STRM"

export function createStreamLeases(db: Db, opts: StreamLeaseOptions): StreamLeases {
  const log = opts.logger.child({ component: "stream-leases" });
  const instanceId = randomUUID();
  instancesHere.add(instanceId);
  // This instance's live leases (id → user): what it renews.
  const open = new Map<string, string>();
  const leaseEnd = sql`now() + ${opts.leaseMs} * interval '1 millisecond'`;

  const release = (id: string) => {
    if (!open.delete(id)) return;
    // If this fails, the row is no longer renewed and stops counting once it expires.
    db.delete(streamLeases)
      .where(eq(streamLeases.id, id))
      .catch((err) => log.warn({ err }, "could not release a stream lease"));
  };

  const renew = async () => {
    const renewed = await db
      .update(streamLeases)
      .set({ expiresAt: leaseEnd })
      .where(eq(streamLeases.instanceId, instanceId))
      .returning({ id: streamLeases.id });
    // Rows of streams that are still open but were swept while the database was out of reach count again.
    const have = new Set(renewed.map((r) => r.id));
    const lost = [...open].filter(([id]) => !have.has(id));
    if (lost.length > 0) {
      await db
        .insert(streamLeases)
        .values(lost.map(([id, userId]) => ({ id, userId, instanceId, expiresAt: leaseEnd })))
        .onConflictDoNothing();
    }
    // Dead instances' leases: they stopped counting already, this only keeps the table small.
    await db.delete(streamLeases).where(lt(streamLeases.expiresAt, sql`now()`));
  };

  let renewing: Promise<void> | undefined;
  const timer = setInterval(
    () => {
      renewing ??= renew()
        .catch((err) => log.warn({ err }, "could not renew stream leases"))
        .finally(() => {
          renewing = undefined;
        });
    },
    Math.max(50, Math.floor(opts.leaseMs / 3)),
  );
  timer.unref();

  return {
    async acquire(userId) {
      const id = randomUUID();
      const refused = await db.transaction(async (tx) => {
        // One user's opens take turns on every instance, so two can't both see the last free slot.
        await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_NAMESPACE}, hashtext(${userId}))`);
        const gone = lte(streamLeases.expiresAt, sql`now()`);
        await tx
          .delete(streamLeases)
          .where(
            and(
              eq(streamLeases.userId, userId),
              opts.soleProcess ? or(gone, notInArray(streamLeases.instanceId, [...instancesHere])) : gone,
            ),
          );
        const [held] = await tx
          .select({
            n: count(),
            // Seconds until the user's first lease runs out (if its instance is gone, the slot frees then).
            wait: sql<number>`ceil(extract(epoch from min(${streamLeases.expiresAt}) - now()))`.mapWith(
              Number,
            ),
          })
          .from(streamLeases)
          .where(eq(streamLeases.userId, userId));
        if (held && held.n >= opts.maxPerUser) return { retryAfterSeconds: Math.max(1, held.wait) };
        await tx.insert(streamLeases).values({ id, userId, instanceId, expiresAt: leaseEnd });
        return undefined;
      });
      if (refused) return refused;
      open.set(id, userId);
      return { release: () => release(id) };
    },
    async close() {
      clearInterval(timer);
      instancesHere.delete(instanceId);
      await renewing;
      open.clear();
      // Unreachable now, they expire like a dead instance's.
      await db
        .delete(streamLeases)
        .where(eq(streamLeases.instanceId, instanceId))
        .catch((err) => log.warn({ err }, "could not release this instance's stream leases"));
    },
  };
}
