// Issue 12 item 2: sign-in throttled per address (an IPv6 /64 as one) and per account in every mode, the
// account's wait not applying where its owner signs in, forwarded headers believed only from configured
// proxies, device codes and sign-ups throttled too.
import { beforeEach, describe, expect, it } from "vitest";
import type { ThrottleLimits } from "../../src/auth/throttle.ts";
import { loadConfig } from "../../src/config.ts";
import { rateLimits } from "../../src/db/schema.ts";
import { postJson, signUp, TEST_PASSWORD } from "../support/auth.ts";
import { startGatewayHarness } from "../support/gateway.ts";
import { databaseForFile } from "../support/suite.ts";

const database = databaseForFile();

// The counters live in the database every gateway shares: each scenario starts from none.
beforeEach(async () => {
  await database.db.delete(rateLimits);
});

const LIMITS = {
  signInFailuresPerIp: 5,
  signInIpWindowSeconds: 900,
  accountFreeFailures: 3,
  // Long enough that no test outruns a wait on a loaded machine.
  accountBaseDelaySeconds: 30,
  accountMaxDelaySeconds: 60,
  signUpsPerIp: 1000,
  deviceCodesPerIp: 1000,
  creationWindowSeconds: 3600,
};

async function gateway(trustProxy: false | string[], limits: Partial<ThrottleLimits> = LIMITS) {
  return startGatewayHarness(database, { trustProxy, throttle: limits });
}

const signIn = (base: string, email: string, password: string, from?: string) =>
  postJson(base, "/api/auth/sign-in/email", { email, password }, from ? { "x-forwarded-for": from } : {});

describe("per address", () => {
  it("ignores a client's X-Forwarded-For when no proxy is trusted: rotating it buys no guesses", async () => {
    const gw = await gateway(false);
    try {
      await signUp(gw.baseUrl, "rotating-target@example.com");
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        // A different account each time: only the address budget can stop this.
        const res = await signIn(gw.baseUrl, `nobody${i}@example.com`, "guess", `203.0.113.${i}`);
        statuses.push(res.status);
      }
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
      const limited = await signIn(gw.baseUrl, "nobody9@example.com", "guess", "198.51.100.1");
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
      expect((await limited.json()).error.code).toBe("rate_limited");
    } finally {
      await gw.close();
    }
  });

  it("counts an IPv6 client's /64 as one address: rotating within it buys no guesses", async () => {
    const gw = await gateway(["loopback"]);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        const res = await signIn(gw.baseUrl, `v6-${i}@example.com`, "guess", `2001:db8:5:6::${i + 1}`);
        statuses.push(res.status);
      }
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
      // The same budget, written as an address of its /64 in any form.
      expect(
        (await signIn(gw.baseUrl, "v6-x@example.com", "guess", "2001:0db8:0005:0006:ffff::9")).status,
      ).toBe(429);
      // The next /64 is another client.
      expect((await signIn(gw.baseUrl, "v6-y@example.com", "guess", "2001:db8:5:7::1")).status).toBe(401);
    } finally {
      await gw.close();
    }
  });

  it("believes X-Forwarded-For from a trusted proxy, so a victim on another address is never locked out", async () => {
    const gw = await gateway(["loopback"]);
    try {
      await signUp(gw.baseUrl, "victim@example.com");
      for (let i = 0; i < 8; i++) await signIn(gw.baseUrl, `other${i}@example.com`, "guess", "203.0.113.9");
      expect((await signIn(gw.baseUrl, "other99@example.com", "guess", "203.0.113.9")).status).toBe(429);
      // The attacker's failures were on other accounts, from another address.
      const victim = await signIn(gw.baseUrl, "victim@example.com", TEST_PASSWORD, "198.51.100.7");
      expect(victim.status).toBe(200);
      expect(victim.headers.get("set-auth-token")).toBeTruthy();
    } finally {
      await gw.close();
    }
  });
});

describe("per account", () => {
  it("slows an account down after repeated failures from any address, with a cap, and nobody else", async () => {
    const gw = await gateway(["loopback"]);
    try {
      await signUp(gw.baseUrl, "target@example.com");
      await signUp(gw.baseUrl, "bystander@example.com");
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        statuses.push((await signIn(gw.baseUrl, "target@example.com", "wrong", `192.0.2.${i + 1}`)).status);
      }
      // 3 free failures; from the 4th on each failure makes the account wait (30 s, 60 s… up to the cap).
      expect(statuses.slice(0, 4)).toEqual([401, 401, 401, 401]);
      expect(statuses[4]).toBe(429);
      const waiting = await signIn(gw.baseUrl, "target@example.com", TEST_PASSWORD, "198.51.100.50");
      expect(waiting.status).toBe(429);
      const retryAfter = Number(waiting.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(LIMITS.accountMaxDelaySeconds);
      // Same addresses, another account: untouched.
      expect((await signIn(gw.baseUrl, "bystander@example.com", TEST_PASSWORD, "192.0.2.1")).status).toBe(
        200,
      );
    } finally {
      await gw.close();
    }
  });

  it("counts a form sign-in against the account better-auth checks, however the body is spelled", async () => {
    const gw = await gateway(["loopback"]);
    try {
      await signUp(gw.baseUrl, "spelled@example.com");
      const form = (body: string, type: string, from: string) =>
        fetch(`${gw.baseUrl}/api/auth/sign-in/email`, {
          method: "POST",
          headers: { "content-type": type, origin: gw.baseUrl, "x-forwarded-for": from },
          body,
        });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        // better-call reads the media type in any case, and the last of repeated fields.
        const res =
          i % 2
            ? form(
                "email=decoy@example.com&email=spelled@example.com&password=wrong",
                "application/x-www-form-urlencoded",
                `192.0.2.${i + 1}`,
              )
            : form(
                "email=spelled@example.com&password=wrong",
                "Application/X-WWW-Form-Urlencoded; charset=UTF-8",
                `192.0.2.${i + 1}`,
              );
        statuses.push((await res).status);
      }
      expect(statuses).toEqual([401, 401, 401, 401, 429]);
    } finally {
      await gw.close();
    }
  });

  it("can't be used to keep the owner out: the wait does not apply where the account signed in lately", async () => {
    const gw = await gateway(["loopback"]);
    try {
      await signUp(gw.baseUrl, "kept-out@example.com");
      const home = "198.51.100.20";
      expect((await signIn(gw.baseUrl, "kept-out@example.com", TEST_PASSWORD, home)).status).toBe(200);
      // Someone else fails on purpose until the account waits.
      for (let i = 0; i < 4; i++) await signIn(gw.baseUrl, "kept-out@example.com", "wrong", "203.0.113.66");
      expect((await signIn(gw.baseUrl, "kept-out@example.com", "wrong", "203.0.113.66")).status).toBe(429);
      // From an address it never signed in from, the wait holds, even with the right password.
      expect((await signIn(gw.baseUrl, "kept-out@example.com", TEST_PASSWORD, "192.0.2.77")).status).toBe(
        429,
      );
      // At home the owner gets in.
      const owner = await signIn(gw.baseUrl, "kept-out@example.com", TEST_PASSWORD, home);
      expect(owner.status).toBe(200);
      expect(owner.headers.get("set-auth-token")).toBeTruthy();
    } finally {
      await gw.close();
    }
  });

  it("gives a known address only a few failures of its own before the account's wait applies there too", async () => {
    const gw = await gateway(["loopback"], { ...LIMITS, knownAddressFailures: 2 });
    try {
      await signUp(gw.baseUrl, "shared-home@example.com");
      const home = "198.51.100.21";
      expect((await signIn(gw.baseUrl, "shared-home@example.com", TEST_PASSWORD, home)).status).toBe(200);
      for (let i = 0; i < 5; i++)
        await signIn(gw.baseUrl, "shared-home@example.com", "wrong", "203.0.113.67");
      // Guessing from the owner's address (a shared network): two failures, then the wait applies there too.
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++)
        statuses.push((await signIn(gw.baseUrl, "shared-home@example.com", "wrong", home)).status);
      expect(statuses).toEqual([401, 401, 429]);
      expect((await signIn(gw.baseUrl, "shared-home@example.com", TEST_PASSWORD, home)).status).toBe(429);
    } finally {
      await gw.close();
    }
  });

  it("caps the wait, and the owner gets in once it has passed", async () => {
    const gw = await gateway(["loopback"], {
      ...LIMITS,
      accountFreeFailures: 1,
      accountBaseDelaySeconds: 1,
      accountMaxDelaySeconds: 1,
    });
    try {
      await signUp(gw.baseUrl, "capped@example.com");
      for (let i = 0; i < 12; i++)
        await signIn(gw.baseUrl, "capped@example.com", "wrong", `192.0.2.${i + 1}`);
      const waiting = await signIn(gw.baseUrl, "capped@example.com", TEST_PASSWORD, "198.51.100.60");
      if (waiting.status === 429) {
        expect(Number(waiting.headers.get("retry-after"))).toBeLessThanOrEqual(1);
        await new Promise((r) => setTimeout(r, 1100));
      }
      expect((await signIn(gw.baseUrl, "capped@example.com", TEST_PASSWORD, "198.51.100.60")).status).toBe(
        200,
      );
    } finally {
      await gw.close();
    }
  });
});

describe("in every mode", () => {
  it("throttles with NODE_ENV unset, as `pnpm start` runs", async () => {
    const saved = process.env.NODE_ENV;
    delete process.env.NODE_ENV;
    const gw = await gateway(false);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++)
        statuses.push((await signIn(gw.baseUrl, `x${i}@example.com`, "guess")).status);
      expect(statuses.at(-1)).toBe(429);
    } finally {
      await gw.close();
      process.env.NODE_ENV = saved;
    }
  });

  it("throttles sign-ups and device-code creation per address", async () => {
    const gw = await gateway(false, { ...LIMITS, signUpsPerIp: 2, deviceCodesPerIp: 2 });
    try {
      const signUps: number[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await postJson(gw.baseUrl, "/api/auth/sign-up/email", {
          email: `many${i}@example.com`,
          password: TEST_PASSWORD,
          name: "m",
        });
        signUps.push(res.status);
      }
      expect(signUps).toEqual([200, 200, 429]);
      const codes: number[] = [];
      for (let i = 0; i < 3; i++) {
        codes.push(
          (await postJson(gw.baseUrl, "/api/auth/device/code", { client_id: "margin-extension" })).status,
        );
      }
      expect(codes).toEqual([200, 200, 429]);
    } finally {
      await gw.close();
    }
  });
});

describe("TRUST_PROXY", () => {
  const base = {
    DATABASE_URL: "postgres://x@localhost/y",
    MCP_TOKEN_SECRET: "s".repeat(32),
    BETTER_AUTH_SECRET: "s".repeat(32),
  };
  it("is off by default and takes a hop count or proxy addresses, refusing 'trust everyone'", () => {
    expect(loadConfig(base).trustProxy).toBe(false);
    expect(loadConfig({ ...base, TRUST_PROXY: "1" }).trustProxy).toBe(1);
    expect(loadConfig({ ...base, TRUST_PROXY: "10.0.0.0/8, loopback,::1" }).trustProxy).toEqual([
      "10.0.0.0/8",
      "loopback",
      "::1",
    ]);
    expect(() => loadConfig({ ...base, TRUST_PROXY: "true" })).toThrow(/TRUST_PROXY/);
    expect(() => loadConfig({ ...base, TRUST_PROXY: "10.0.0.0/99" })).toThrow(/not an address/);
  });
});
