import { randomUUID } from "node:crypto";
import { and, eq, lt, lte, notInArray, or, sql } from "drizzle-orm";
import type { Logger } from "../logger.ts";
import { type Database, type Db, rowsOf } from "./connect.ts";
import { streamLeases } from "./limits-schema.ts";

/**
 * The per-user limit on open live streams, shared by every gateway instance through `stream_leases`. Past the
 * limit the user's oldest stream is closed (its instance hears of it on `stream_evicted`), so a panel the user
 * opens now always gets live updates, and streams a forgotten window or a leak holds give way.
 *
 * A stream limit counts what is open now, not what happened in a window, so rate-limiter-flexible's counters
 * don't fit: a key's points all expire together, so streams that stay open would stop counting at the end of
 * the window. Instead each open stream holds a row that its instance renews; a row nobody renews (its instance
 * died without closing its streams) stops counting when it expires, and is deleted then.
 */
export type StreamLeases = {
  /** Takes one of the user's stream slots, closing their oldest stream if all are taken. */
  acquire(userId: string): Promise<StreamLease>;
  /** Stops renewing and gives back this instance's leases (its streams are closing). */
  close(): Promise<void>;
};

export type StreamLease = {
  /** Gives the slot back: the stream ended. */
  release(): void;
  /** Runs `close` when a newer stream of the user takes this slot (at once, if one already has). */
  onEvicted(close: () => void): void;
};

export type StreamLeaseOptions = {
  maxPerUser: number;
  /** How long a lease counts without renewal: the longest a dead instance's streams keep their slots. */
  leaseMs: number;
  logger: Logger;
  /** LISTEN, for evictions decided on other instances (Database.listen). */
  listen: Database["listen"];
  /**
   * The database can only be open in this process (the embedded one: its folder is locked to one process), so
   * a lease of an instance not running here is a previous run's that ended without closing its streams.
   */
  soleProcess?: boolean;
};

const EVICTED_CHANNEL = "stream_evicted";

/** A lease of this instance: whose it is, and how to end its stream once a newer one takes the slot. */
type OpenLease = { userId: string; evicted: boolean; close?: () => void };

// The instances running in this process: with `soleProcess`, only their leases count.
const instancesHere = new Set<string>();

// pg_advisory_xact_lock(namespace, key): a namespace of our own, so no other advisory lock can collide.
const LOCK_NAMESPACE = 0x5354_524d; // "STRM"

export function createStreamLeases(db: Db, opts: StreamLeaseOptions): StreamLeases {
  const log = opts.logger.child({ component: "stream-leases" });
  const instanceId = randomUUID();
  instancesHere.add(instanceId);
  // This instance's live leases: what it renews, and whom to tell when a newer stream takes the slot.
  const open = new Map<string, OpenLease>();
  const leaseEnd = sql`now() + ${opts.leaseMs} * interval '1 millisecond'`;

  const release = (id: string) => {
    if (!open.delete(id)) return;
    // If this fails, the row is no longer renewed and stops counting once it expires.
    db.delete(streamLeases)
      .where(eq(streamLeases.id, id))
      .catch((err) => log.warn({ err }, "could not release a stream lease"));
  };

  // When the last renewal started: until a lease has passed since, none of this instance's rows can have expired.
  let renewedAt = performance.now();
  const renew = async () => {
    const started = performance.now();
    const held = [...open.keys()];
    const renewed = await db
      .update(streamLeases)
      .set({ expiresAt: leaseEnd })
      .where(eq(streamLeases.instanceId, instanceId))
      .returning({ id: streamLeases.id });
    const have = new Set(renewed.map((r) => r.id));
    const lost = held.filter((id) => !have.has(id) && open.has(id));
    if (performance.now() - renewedAt < opts.leaseMs) {
      // No row of ours expired, so one that is gone was taken by a newer stream: its notice was lost (LISTEN
      // was down) or is still on its way. Its stream closes now.
      for (const id of lost) evict(id);
    } else if (lost.length > 0) {
      // The database was out of reach for a whole lease: rows of streams still open may have been swept as
      // expired, so they count again.
      await db
        .insert(streamLeases)
        .values(lost.map((id) => ({ id, userId: open.get(id)!.userId, instanceId, expiresAt: leaseEnd })))
        .onConflictDoNothing();
    }
    renewedAt = started;
    // Dead instances' leases: they stopped counting already, this only keeps the table small.
    await db.delete(streamLeases).where(lt(streamLeases.expiresAt, sql`now()`));
  };

  /** A newer stream took this lease's slot: its row is gone, so only the stream is left to close. */
  const evict = (id: string) => {
    const lease = open.get(id);
    if (!lease) return;
    open.delete(id);
    lease.evicted = true;
    lease.close?.();
  };
  // A notice lost while LISTEN was down: the next renewal finds the row gone and closes the stream.
  const listening = opts.listen(EVICTED_CHANNEL, evict).then(
    (unlisten) => unlisten,
    (err) => {
      log.warn({ err }, "could not listen for stream evictions; only this instance's are enforced");
      return undefined;
    },
  );

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
      await listening;
      const id = randomUUID();
      const evicted = await db.transaction(async (tx) => {
        // One user's opens take turns on every instance, so two can't both take the last free slot.
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
        // All but the newest (limit − 1) go, oldest first, and their instances hear of it when this commits.
        const rows = await tx.execute(sql`
          with evicted as (
            delete from ${streamLeases} where ${streamLeases.id} in (
              select ${streamLeases.id} from ${streamLeases} where ${streamLeases.userId} = ${userId}
              order by ${streamLeases.openedAt} desc, ${streamLeases.id} desc
              offset ${opts.maxPerUser - 1})
            returning ${streamLeases.id}
          )
          select id, pg_notify(${EVICTED_CHANNEL}, id::text) from evicted`);
        await tx.insert(streamLeases).values({ id, userId, instanceId, expiresAt: leaseEnd });
        return rowsOf<{ id: string }>(rows).map((r) => r.id);
      });
      // This instance's own evictions don't wait for the notice.
      for (const gone of evicted) evict(gone);
      const lease: OpenLease = { userId, evicted: false };
      open.set(id, lease);
      return {
        release: () => release(id),
        onEvicted(close) {
          if (lease.evicted) close();
          else lease.close = close;
        },
      };
    },
    async close() {
      clearInterval(timer);
      await (await listening)?.().catch(() => {});
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
