// Sign-in, sign-up and device-code throttles, the same in every mode (NODE_ENV plays no part).
// With a database their counters are shared by every gateway instance (db/rate-limiter.ts).
import ipaddr from "ipaddr.js";
import { type RateLimiterAbstract, RateLimiterRes } from "rate-limiter-flexible";
import type { Db } from "../db/connect.ts";
import { createRateLimiter } from "../db/rate-limiter.ts";

export type ThrottleLimits = {
  /** Failed sign-ins one client address may make per window before it must wait for the window. */
  signInFailuresPerIp: number;
  signInIpWindowSeconds: number;
  /** Failures on one account (from any address) before each further failure makes the account wait. */
  accountFreeFailures: number;
  /** The first wait; each further failure doubles it. */
  accountBaseDelaySeconds: number;
  /** The longest an account waits after a failure (the doubling delay stops here). */
  accountMaxDelaySeconds: number;
  /**
   * An address the account signed in from within this long is its owner's: the account's wait does not apply
   * there, so someone failing on purpose elsewhere can't keep the owner out.
   */
  knownAddressSeconds: number;
  /** Failures from a known address, per account and window, before the account's wait applies there too. */
  knownAddressFailures: number;
  knownAddressWindowSeconds: number;
  /** Sign-ups, device codes and OAuth client registrations one client address may start per window. */
  signUpsPerIp: number;
  deviceCodesPerIp: number;
  clientRegistrationsPerIp: number;
  creationWindowSeconds: number;
};

export const DEFAULT_THROTTLE_LIMITS: ThrottleLimits = {
  signInFailuresPerIp: 30,
  signInIpWindowSeconds: 15 * 60,
  accountFreeFailures: 5,
  accountBaseDelaySeconds: 1,
  accountMaxDelaySeconds: 5 * 60,
  knownAddressSeconds: 30 * 86_400,
  knownAddressFailures: 5,
  knownAddressWindowSeconds: 60 * 60,
  signUpsPerIp: 20,
  deviceCodesPerIp: 30,
  clientRegistrationsPerIp: 30,
  creationWindowSeconds: 60 * 60,
};

/** Wait this many seconds before trying again. */
export type Verdict = { retryAfterSeconds: number } | null;

export type AuthThrottle = {
  /** Checked before a sign-in runs; consumes nothing. */
  beforeSignIn(ip: string, email: string): Promise<Verdict>;
  signInFailed(ip: string, email: string): Promise<void>;
  signInSucceeded(ip: string, email: string): Promise<void>;
  /** Each consumes one sign-up / device code / OAuth client registration from the address's budget. */
  takeSignUp(ip: string): Promise<Verdict>;
  takeDeviceCode(ip: string): Promise<Verdict>;
  takeClientRegistration(ip: string): Promise<Verdict>;
};

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
const accountKey = (email: string) => email.trim().toLowerCase();

/**
 * The client an address stands for: an IPv6 address by its /64 (one host or home network gets a whole /64,
 * so per-address budgets would otherwise be endless), an IPv4-mapped IPv6 address as the IPv4 one.
 */
export function addressKey(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const address = ipaddr.process(ip);
  if (address.kind() === "ipv4") return address.toString();
  return `${(address as ipaddr.IPv6).parts
    .slice(0, 4)
    .map((part) => part.toString(16))
    .join(":")}::/64`;
}

async function take(limiter: RateLimiterAbstract, key: string): Promise<Verdict> {
  try {
    await limiter.consume(key);
    return null;
  } catch (err) {
    if (err instanceof RateLimiterRes) return { retryAfterSeconds: seconds(err.msBeforeNext) };
    throw err;
  }
}

/**
 * Per address (an IPv6 /64 counts as one): a budget of failed sign-ins, so one client can't sweep many
 * accounts, while a victim on another address is untouched. Per account, whatever the address: after a few
 * failures each failure makes the account wait twice as long as the last, up to a cap, so guessing one
 * password is slow everywhere. Failures on other accounts never count, and the wait does not apply at an
 * address the account signed in from lately (until a few failures there), so one failure every few minutes
 * from elsewhere can't keep the owner out.
 */
export function createAuthThrottle(limits: Partial<ThrottleLimits> = {}, db?: Db): AuthThrottle {
  const l = { ...DEFAULT_THROTTLE_LIMITS, ...limits };
  const ipFailures = createRateLimiter(db, {
    keyPrefix: "signin_ip",
    points: l.signInFailuresPerIp,
    duration: l.signInIpWindowSeconds,
  });
  // Failures per account over a day: the count that sets the delay.
  const accountFailures = createRateLimiter(db, { keyPrefix: "signin_acct", points: 1e9, duration: 86_400 });
  // The account's current wait, as a block.
  const accountWait = createRateLimiter(db, { keyPrefix: "signin_wait", points: 1, duration: 1 });
  // Account and address pairs that signed in lately, and their failures since.
  const knownAddresses = createRateLimiter(db, {
    keyPrefix: "signin_known",
    points: 1,
    duration: l.knownAddressSeconds,
  });
  const knownFailures = createRateLimiter(db, {
    keyPrefix: "signin_known_fail",
    points: l.knownAddressFailures,
    duration: l.knownAddressWindowSeconds,
  });
  // The email last, as in the other account keys: deleting an account deletes the keys that end with it.
  const pairKey = (ip: string, email: string) => `${addressKey(ip)}:${accountKey(email)}`;
  const signUps = createRateLimiter(db, {
    keyPrefix: "signup_ip",
    points: l.signUpsPerIp,
    duration: l.creationWindowSeconds,
  });
  const deviceCodes = createRateLimiter(db, {
    keyPrefix: "device_ip",
    points: l.deviceCodesPerIp,
    duration: l.creationWindowSeconds,
  });

  // Registration needs no account (MCP clients register themselves), so only the address bounds it.
  const clientRegistrations = createRateLimiter(db, {
    keyPrefix: "oauth_register_ip",
    points: l.clientRegistrationsPerIp,
    duration: l.creationWindowSeconds,
  });

  return {
    async beforeSignIn(ip, email) {
      const pair = pairKey(ip, email);
      const [byIp, wait, known, knownFailed] = await Promise.all([
        ipFailures.get(addressKey(ip)),
        accountWait.get(accountKey(email)),
        knownAddresses.get(pair),
        knownFailures.get(pair),
      ]);
      const owners =
        (known?.consumedPoints ?? 0) > 0 && (knownFailed?.consumedPoints ?? 0) < l.knownAddressFailures;
      const waits: number[] = [];
      if (byIp && byIp.consumedPoints >= l.signInFailuresPerIp) waits.push(byIp.msBeforeNext);
      if (wait && wait.consumedPoints > 1 && !owners) waits.push(wait.msBeforeNext);
      return waits.length ? { retryAfterSeconds: seconds(Math.max(...waits)) } : null;
    },

    async signInFailed(ip, email) {
      const key = accountKey(email);
      const pair = pairKey(ip, email);
      await ipFailures.penalty(addressKey(ip));
      if (((await knownAddresses.get(pair))?.consumedPoints ?? 0) > 0) await knownFailures.penalty(pair);
      const failures = (await accountFailures.penalty(key)).consumedPoints;
      const over = failures - l.accountFreeFailures;
      if (over > 0)
        await accountWait.block(
          key,
          Math.min(l.accountMaxDelaySeconds, l.accountBaseDelaySeconds * 2 ** (over - 1)),
        );
    },

    async signInSucceeded(ip, email) {
      const key = accountKey(email);
      const pair = pairKey(ip, email);
      await Promise.all([
        accountFailures.delete(key),
        accountWait.delete(key),
        knownFailures.delete(pair),
        knownAddresses.set(pair, 1, l.knownAddressSeconds),
      ]);
    },

    takeSignUp: (ip) => take(signUps, addressKey(ip)),
    takeDeviceCode: (ip) => take(deviceCodes, addressKey(ip)),
    takeClientRegistration: (ip) => take(clientRegistrations, addressKey(ip)),
  };
}
