import { describe, expect, it } from "vitest";
import { createSessionCache } from "./session-cache.ts";
import type { AuthChange, AuthChanges } from "./session-events.ts";

/** The notification side of `auth_changes`, driven by hand (the cross-instance path is tested in test/security). */
function changesByHand() {
  const listeners = new Set<Parameters<AuthChanges["subscribe"]>[0]>();
  const changes: AuthChanges = {
    start: async () => {},
    subscribe(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    liveSessionIds: async (ids) => new Set(ids),
    close: async () => {},
  };
  return {
    changes,
    emit: (c: AuthChange) => {
      for (const l of listeners) l.onChange(c);
    },
    resync: () => {
      for (const l of listeners) l.onResync?.();
    },
  };
}

const found = (userId: string, sessionId: string, expiresAt = new Date(Date.now() + 86_400_000)) => ({
  user: { id: userId, email: `${userId}@example.com`, timezone: "UTC" },
  session: { id: sessionId, expiresAt },
});

describe("session cache", () => {
  it("keeps a session for its TTL, never past the session's own expiry", () => {
    let now = 1_000_000;
    const { changes } = changesByHand();
    const cache = createSessionCache(changes, { ttlMs: 5000, now: () => now });
    cache.set("t1", found("u1", "s1"), cache.epoch());
    cache.set("t2", found("u2", "s2", new Date(now + 1000)), cache.epoch());
    now += 1500;
    expect(cache.get("t1")?.user.id).toBe("u1");
    expect(cache.get("t2")).toBeUndefined();
    now += 4000;
    expect(cache.get("t1")).toBeUndefined();
  });

  it("drops by session on revocation and by user on a user change or deletion", () => {
    const hand = changesByHand();
    const cache = createSessionCache(hand.changes);
    cache.set("laptop", found("u1", "s1"), cache.epoch());
    cache.set("phone", found("u1", "s2"), cache.epoch());
    cache.set("other", found("u2", "s3"), cache.epoch());
    hand.emit({ kind: "session_revoked", session_id: "s2", user_id: "u1" });
    expect(cache.get("phone")).toBeUndefined();
    expect(cache.get("laptop")).toBeDefined();
    hand.emit({ kind: "user_changed", user_id: "u1" });
    expect(cache.get("laptop")).toBeUndefined();
    expect(cache.get("other")).toBeDefined();
    hand.emit({ kind: "user_deleted", user_id: "u2" });
    expect(cache.size).toBe(0);
  });

  it("does not keep a lookup that a change overtook, and forgets everything on a resync", () => {
    const hand = changesByHand();
    const cache = createSessionCache(hand.changes);
    const before = cache.epoch();
    hand.emit({ kind: "session_revoked", session_id: "s1", user_id: "u1" });
    cache.set("t1", found("u1", "s1"), before);
    expect(cache.get("t1")).toBeUndefined();

    cache.set("t2", found("u2", "s2"), cache.epoch());
    hand.resync();
    expect(cache.get("t2")).toBeUndefined();
  });

  it("forgets all of a user's tokens when that user changes something here", () => {
    const { changes } = changesByHand();
    const cache = createSessionCache(changes);
    cache.set("a", found("u1", "s1"), cache.epoch());
    cache.set("b", found("u1", "s2"), cache.epoch());
    cache.set("c", found("u2", "s3"), cache.epoch());
    cache.forgetUserOf("a");
    expect([cache.get("a"), cache.get("b")]).toEqual([undefined, undefined]);
    expect(cache.get("c")).toBeDefined();
  });

  it("holds at most maxEntries tokens, dropping the oldest", () => {
    const { changes } = changesByHand();
    const cache = createSessionCache(changes, { maxEntries: 2 });
    for (const t of ["a", "b", "c"]) cache.set(t, found(`u-${t}`, `s-${t}`), cache.epoch());
    expect(cache.size).toBe(2);
    expect(cache.get("a")).toBeUndefined();
    expect(cache.get("c")).toBeDefined();
  });
});
