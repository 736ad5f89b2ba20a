// Throwaway: drives the /device page's inline script with a tiny fake DOM against the real server.
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type AuthServer, postJson, signUp, startAuthServer, TEST_PASSWORD } from "./support/auth.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";

let database: TestDatabase;
let server: AuthServer;
beforeAll(async () => {
  database = await createTestDatabase();
  server = await startAuthServer(database.db);
});
afterAll(async () => {
  await server.close();
  await database.destroy();
});

function makePage(base: string, html: string) {
  const script = /<script nonce="[^"]+">([\s\S]*?)<\/script>/.exec(html)![1]!;
  const code = /id="user_code" name="user_code" value="([^"]*)"/.exec(html)![1]!;
  let cookie = "";
  const listeners: Record<string, Function> = {};
  const el = (id: string, extra: Record<string, unknown> = {}): any => ({
    id,
    value: "",
    hidden: id === "signed-out" || id === "signed-in",
    textContent: "",
    className: "",
    dataset: {},
    disabled: false,
    addEventListener: (t: string, f: Function) => {
      listeners[id + ":" + t] = f;
    },
    closest(sel: string) {
      return this.section && this.section.hidden ? this.section : null;
    },
    ...extra,
  });
  const els: Record<string, any> = {};
  for (const id of [
    "device-form",
    "status",
    "signed-out",
    "signed-in",
    "who",
    "email",
    "password",
    "sign-out",
  ])
    els[id] = el(id);
  els.user_code = el("user_code", { value: code });
  const btn = (action: string, section: string) =>
    el("btn-" + action, { dataset: { action }, section: els[section] });
  const buttons = {
    "sign-in": btn("sign-in", "signed-out"),
    "sign-up": btn("sign-up", "signed-out"),
    approve: btn("approve", "signed-in"),
    deny: btn("deny", "signed-in"),
  };
  els["device-form"].querySelectorAll = () => Object.values(buttons);
  const fetchImpl = async (url: string, init: any = {}) => {
    const headers = new Headers(init.headers);
    if (cookie) headers.set("cookie", cookie);
    if (init.method === "POST") headers.set("origin", base);
    const res = await fetch(new URL(url, base + "/device").href, { ...init, headers });
    const set = res.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .filter((c) => !c!.endsWith("="));
    if (set.length) cookie = set.join("; ");
    return res;
  };
  const ctx = {
    document: { getElementById: (id: string) => els[id] },
    fetch: fetchImpl,
    Intl,
    encodeURIComponent,
    JSON,
    console,
  };
  runInNewContext(script, ctx);
  const submit = async (action: keyof typeof buttons) => {
    await listeners["device-form:submit"]!({ preventDefault() {}, submitter: buttons[action] });
  };
  return { els, submit, settle: () => new Promise((r) => setTimeout(r, 300)) };
}

it("page flow: wrong password, sign-in, approve; sign-up + deny", async () => {
  const base = server.baseUrl;
  const email = `p${Date.now()}@example.com`;
  await signUp(base, email);
  const dc = await (await postJson(base, "/api/auth/device/code", { client_id: "ext" })).json();
  const page = makePage(base, await (await fetch(`${base}/device?user_code=${dc.user_code}`)).text());
  await page.settle();
  expect(page.els["signed-out"].hidden).toBe(false);
  page.els.email.value = email;
  page.els.password.value = "wrong-password";
  await page.submit("sign-in");
  console.log("1:", page.els.status.textContent);
  page.els.password.value = TEST_PASSWORD;
  await page.submit("sign-in");
  console.log("2:", page.els.status.textContent, page.els.who.textContent);
  await page.submit("approve");
  console.log("3:", page.els.status.textContent, page.els.status.className);
  await page.submit("approve");
  console.log("3b:", page.els.status.textContent);
  await new Promise((r) => setTimeout(r, 2100));
  const tok = await (
    await postJson(base, "/api/auth/device/token", {
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      device_code: dc.device_code,
      client_id: "ext",
    })
  ).json();
  console.log("token:", Object.keys(tok));
  const dc2 = await (await postJson(base, "/api/auth/device/code", { client_id: "ext" })).json();
  const p2 = makePage(
    base,
    await (
      await fetch(
        `${base}/device?user_code=${dc2.user_code.toLowerCase().slice(0, 4)}-${dc2.user_code.toLowerCase().slice(4)}`,
      )
    ).text(),
  );
  await p2.settle();
  p2.els.email.value = email;
  p2.els.password.value = TEST_PASSWORD;
  await p2.submit("sign-up");
  console.log("4:", p2.els.status.textContent);
  p2.els.email.value = `n${Date.now()}@example.com`;
  await p2.submit("sign-up");
  console.log("5:", p2.els.status.textContent, p2.els.who.textContent);
  await p2.submit("sign-in");
  console.log("5b (hidden btn):", p2.els.status.textContent);
  await p2.submit("deny");
  console.log("6:", p2.els.status.textContent);
  p2.els.user_code.value = "ZZZZZZZZ";
  await p2.submit("approve");
  console.log("7:", p2.els.status.textContent);
  await listeners_signout(p2);
  async function listeners_signout(_p: any) {}
});
