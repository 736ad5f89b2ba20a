import { afterEach, describe, expect, it, vi } from "vitest";
import { DeviceFlowError, pollDeviceToken, requestDeviceCode } from "./device-flow.ts";

/** The gateway's device endpoints, answering a scripted sequence of token polls. */
function stubDeviceEndpoints(polls: { status: number; body: unknown }[]) {
  const requests: { url: string; body: Record<string, unknown> }[] = [];
  vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
    requests.push({ url, body: JSON.parse(String(init.body)) });
    if (url.endsWith("/device/code"))
      return Response.json({
        device_code: "dev-123",
        user_code: "ABCD-EFGH",
        verification_uri: "http://gw.test/device",
        expires_in: 600,
        interval: 2,
      });
    const next = polls.shift()!;
    return Response.json(next.body, { status: next.status });
  });
  return requests;
}

const pending = { status: 400, body: { error: "authorization_pending" } };

describe("device flow", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("asks for a code and links the approval page with it", async () => {
    const requests = stubDeviceEndpoints([]);
    const code = await requestDeviceCode("http://gw.test/");
    expect(code.approvalUrl).toBe("http://gw.test/device?user_code=ABCD-EFGH");
    expect(requests[0]).toEqual({
      url: "http://gw.test/api/auth/device/code",
      body: { client_id: "margin-extension" },
    });
  });

  it("polls at the server's interval until approved, slowing down when told", async () => {
    const requests = stubDeviceEndpoints([
      pending,
      { status: 400, body: { error: "slow_down" } },
      pending,
      { status: 200, body: { access_token: "tok", token_type: "Bearer" } },
    ]);
    const code = await requestDeviceCode("http://gw.test");
    const waits: number[] = [];
    const token = await pollDeviceToken("http://gw.test", code, { sleep: async (ms) => void waits.push(ms) });
    expect(token).toBe("tok");
    expect(waits).toEqual([2000, 2000, 7000, 7000]);
    expect(requests.at(-1)!.body).toEqual({
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      device_code: "dev-123",
      client_id: "margin-extension",
    });
  });

  it("says so when the user denies or the code expires", async () => {
    stubDeviceEndpoints([pending, { status: 400, body: { error: "access_denied" } }]);
    const code = await requestDeviceCode("http://gw.test");
    await expect(pollDeviceToken("http://gw.test", code, { sleep: async () => {} })).rejects.toThrow(
      new DeviceFlowError("Sign-in was denied on the approval page."),
    );
    stubDeviceEndpoints([{ status: 400, body: { error: "expired_token" } }]);
    await expect(pollDeviceToken("http://gw.test", code, { sleep: async () => {} })).rejects.toThrow(
      /expired/,
    );
  });
});
