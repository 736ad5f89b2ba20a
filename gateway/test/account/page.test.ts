import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { postJson, TEST_PASSWORD } from "../support/auth.ts";
import { gatewayForFile } from "../support/gateway-for-file.ts";
import { addTask, grantOAuthClient, type Person, person } from "./support.ts";

const { database, gw } = gatewayForFile();

/** Signs in as a browser on the page would: better-auth sets the session cookie. */
async function browserSession(who: Person): Promise<string> {
  const res = await postJson(gw.baseUrl, "/api/auth/sign-in/email", {
    email: who.email,
    password: TEST_PASSWORD,
  });
  expect(res.status).toBe(200);
  const cookies = res.headers.getSetCookie().map((c) => c.split(";")[0]!);
  expect(cookies.some((c) => c.includes("session_token"))).toBe(true);
  return cookies.join("; ");
}

const page = (cookie?: string) => fetch(`${gw.baseUrl}/account`, { headers: cookie ? { cookie } : {} });
const csrfOf = (html: string) => html.match(/name="csrf" value="([^"]+)"/)?.[1];

/** A form POST from the page: same Origin, the session cookie, the CSRF token in the body. */
const submit = (
  path: string,
  cookie: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
) =>
  fetch(`${gw.baseUrl}${path}`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: gw.baseUrl, cookie, ...headers },
    body: new URLSearchParams(fields).toString(),
  });

describe("the account page", () => {
  it("cannot be framed, is not cached, and sends no referrer to other sites", async () => {
    for (const res of [
      await page(),
      await page(await browserSession(await person(gw, database, "framed"))),
    ]) {
      expect(res.status).toBe(200);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("form-action 'self'");
      expect(csp).toMatch(/script-src 'nonce-[^']+'/);
      expect(csp).not.toContain("unsafe-inline");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(res.headers.get("referrer-policy")).toBe("same-origin");
    }
  });

  it("sends /account/ to /account, where its relative links resolve", async () => {
    const res = await fetch(`${gw.baseUrl}/account/`, { redirect: "manual" });
    expect(res.status).toBe(301);
    expect(new URL(res.headers.get("location")!, `${gw.baseUrl}/account/`).href).toBe(
      `${gw.baseUrl}/account`,
    );
  });

  it("asks a signed-out visitor to sign in, with a form that cannot put the password in a URL", async () => {
    const html = await (await page()).text();
    expect(html).toContain('id="sign-in" method="post"');
    expect(html).not.toContain("Delete my account");
    // Even without the script, the form posts (and the server drops what it got).
    const res = await submit("/account/sign-in", "", { email: "x@example.com", password: "secret-password" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).not.toContain("secret");
  });

  it("shows the signed-in user, the export, import and delete forms, and no token in any URL", async () => {
    const who = await person(gw, database, "shown");
    const cookie = await browserSession(who);
    const html = await (await page(cookie)).text();
    expect(html).toContain(who.email);
    for (const action of ["account/export", "account/import", "account/delete"]) {
      expect(html).toContain(`action="${action}"`);
    }
    expect(html).toContain('value="json"');
    expect(html).toContain('value="csv"');
    const csrf = csrfOf(html)!;
    expect(csrf.length).toBeGreaterThan(20);
    const sessionToken = decodeURIComponent(cookie.split("=")[1]!).split(".")[0]!;
    // Every URL the page holds (links, form targets, script fetches) carries neither token.
    const urls = [...html.matchAll(/(?:href|action|src)="([^"]*)"|fetch\("([^"]*)"/g)].map(
      (m) => m[1] ?? m[2]!,
    );
    expect(urls.length).toBeGreaterThan(3);
    for (const url of urls) {
      expect(url).not.toContain(csrf);
      expect(url).not.toContain(sessionToken);
      expect(url).not.toMatch(/token|csrf|password/i);
    }
    for (const form of html.matchAll(/<form[^>]*>/g)) expect(form[0]).toContain('method="post"');
    // The session token never appears anywhere in the page.
    expect(html).not.toContain(sessionToken);
  });

  it("exports through a POST form with the CSRF token", async () => {
    const who = await person(gw, database, "exporter");
    await addTask(gw, who, { title: "exported from the page" });
    const cookie = await browserSession(who);
    const csrf = csrfOf(await (await page(cookie)).text())!;
    const json = await submit("/account/export", cookie, { csrf, format: "json" });
    expect(json.status).toBe(200);
    expect(json.headers.get("content-disposition")).toMatch(/^attachment;/);
    expect(((await json.json()) as { tasks: { title: string }[] }).tasks.map((t) => t.title)).toEqual([
      "exported from the page",
    ]);
    const csv = await submit("/account/export", cookie, { csrf, format: "csv" });
    expect(await csv.text()).toContain("task,exported from the page,");
  });

  it("refuses a cross-site request: wrong or missing Origin, missing or foreign CSRF token", async () => {
    const who = await person(gw, database, "victim");
    const cookie = await browserSession(who);
    const csrf = csrfOf(await (await page(cookie)).text())!;
    const other = await person(gw, database, "attacker");
    const foreignCsrf = csrfOf(await (await page(await browserSession(other))).text())!;

    const form = "application/x-www-form-urlencoded";
    const refused: [string, Record<string, string>, Record<string, string>, string][] = [
      ["no token", { format: "json" }, { origin: gw.baseUrl }, "invalid_csrf_token"],
      [
        "another session's token",
        { csrf: foreignCsrf, format: "json" },
        { origin: gw.baseUrl },
        "invalid_csrf_token",
      ],
      ["another site", { csrf, format: "json" }, { origin: "https://evil.example" }, "invalid_origin"],
      [
        "no Origin, cross-site",
        { csrf, format: "json" },
        { "sec-fetch-site": "cross-site" },
        "cross_site_request",
      ],
    ];
    for (const [label, fields, headers, code] of refused) {
      const res = await fetch(`${gw.baseUrl}/account/export`, {
        method: "POST",
        headers: { "content-type": form, cookie, ...headers },
        body: new URLSearchParams(fields).toString(),
      });
      expect(res.status, label).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code, label).toBe(code);
    }
    // The same form with the page's own token and Origin works; a bearer token does not stand in for the cookie.
    expect((await submit("/account/export", cookie, { csrf, format: "json" })).status).toBe(200);
    const bearerOnly = await fetch(`${gw.baseUrl}/account/export`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        origin: gw.baseUrl,
        authorization: `Bearer ${who.token}`,
      },
      body: new URLSearchParams({ csrf, format: "json" }).toString(),
    });
    expect(bearerOnly.status).toBe(401);
  });

  it("does not let the page's cookie authorise the API", async () => {
    const who = await person(gw, database, "cookie-api");
    const cookie = await browserSession(who);
    for (const path of ["/api/export", "/api/tasks"]) {
      const res = await fetch(gw.baseUrl + path, { headers: { cookie } });
      expect(res.status, path).toBe(401);
    }
  });

  it("imports a file the page's script sends, with the token in a header", async () => {
    const who = await person(gw, database, "importer");
    const cookie = await browserSession(who);
    const csrf = csrfOf(await (await page(cookie)).text())!;
    const csv = "TYPE,CONTENT,PRIORITY\ntask,from the page,1\n";
    const send = (headers: Record<string, string>) =>
      fetch(`${gw.baseUrl}/account/import`, {
        method: "POST",
        headers: { "content-type": "text/csv", origin: gw.baseUrl, cookie, ...headers },
        body: csv,
      });
    expect((await send({})).status).toBe(403);
    const res = await send({ "x-csrf-token": csrf });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ format: "todoist", created: 1 });
  });

  it("lists the apps connected over OAuth and disconnects one with a form", async () => {
    const who = await person(gw, database, "connected");
    const cookie = await browserSession(who);
    expect(await (await page(cookie)).text()).toContain("No MCP client");
    const clientId = await grantOAuthClient(database, who, "Cursor <script>");
    const html = await (await page(cookie)).text();
    expect(html).toContain("Cursor &lt;script&gt;");
    expect(html).toContain(`name="client_id" value="${clientId}"`);
    const csrf = csrfOf(html)!;

    expect((await submit("/account/apps/disconnect", cookie, { client_id: clientId })).status).toBe(403);
    const done = await submit("/account/apps/disconnect", cookie, { csrf, client_id: clientId });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain("Disconnected.");
    const left = await database.db.execute(
      sql`select count(*)::int as n from oauth_access_token where client_id = ${clientId}`,
    );
    expect(JSON.stringify(left)).toContain('"n":0');
    const again = await submit("/account/apps/disconnect", cookie, { csrf, client_id: clientId });
    expect(again.status).toBe(404);
  });

  it("deletes the account only with its password, then the session is gone", async () => {
    const who = await person(gw, database, "leaver");
    const cookie = await browserSession(who);
    const csrf = csrfOf(await (await page(cookie)).text())!;
    const wrong = await submit("/account/delete", cookie, { csrf, password: "not-the-password" });
    expect(wrong.status).toBe(403);
    expect(await wrong.text()).toContain("not this account&#39;s password");
    expect((await page(cookie).then((r) => r.text())).includes(who.email)).toBe(true);

    const noToken = await submit("/account/delete", cookie, { password: TEST_PASSWORD });
    expect(noToken.status).toBe(403);

    const done = await submit("/account/delete", cookie, { csrf, password: TEST_PASSWORD });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain("Your account is deleted");
    expect(await (await page(cookie)).text()).toContain('id="sign-in"');
    expect((await gw.api("/api/tasks", who.token)).status).toBe(401);
  });
});
