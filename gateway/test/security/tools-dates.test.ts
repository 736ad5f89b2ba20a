import { beforeAll, describe, expect, it } from "vitest";
import { signUp } from "../support/auth.ts";
import { gatewayForFile } from "../support/gateway-for-file.ts";

// Issue 8, "Dates and titles as users mean them", over REST: the same rules as the tools.

const { gw } = gatewayForFile();
let token: string;

beforeAll(async () => {
  token = await signUp(gw.baseUrl, "dates@example.com", { timezone: "Europe/Berlin" });
});

const post = (body: unknown) => gw.api("/api/tasks", token, { method: "POST", body: JSON.stringify(body) });

describe("POST /api/tasks and titles", () => {
  it("stores a title as typed, without extract_due", async () => {
    for (const title of [
      "Meeting notes from 2 weeks ago",
      "Book flights for march 3 trip",
      "call mom tomorrow 5pm",
    ]) {
      const res = await post({ title });
      expect(res.status).toBe(201);
      expect(await res.json()).toMatchObject({ task: { title, due: null }, extracted: null });
    }
  });

  it("with extract_due, takes the phrase from the title and says what it took", async () => {
    const res = await post({ title: "call mom tomorrow 5pm", extract_due: true });
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body.task).toMatchObject({ title: "call mom", due: { time: "17:00", tz: "Europe/Berlin" } });
    expect(body.extracted).toEqual({ phrase: "tomorrow 5pm", title_before: "call mom tomorrow 5pm" });
  });

  it("previews what extract_due would take, without creating anything", async () => {
    const preview = await gw.api(
      `/api/dates/preview?title=${encodeURIComponent("standup every weekday at 9")}`,
      token,
    );
    expect(preview.status).toBe(200);
    const body = await preview.json();
    expect(body).toMatchObject({
      title: "standup",
      extracted: { phrase: "every weekday at 9", title_before: "standup every weekday at 9" },
      due: { tz: "Europe/Berlin", date_only: false },
    });
    const none = await (
      await gw.api(`/api/dates/preview?title=${encodeURIComponent("Meeting notes from 2 weeks ago")}`, token)
    ).json();
    expect(none).toEqual({ title: "Meeting notes from 2 weeks ago", extracted: null, due: null });
    const both = await gw.api("/api/dates/preview?title=x&due=today", token);
    expect(both.status).toBe(400);
  });

  it("refuses a past due with 400 and says so", async () => {
    const res = await post({ title: "late", due: "yesterday" });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({
      code: "invalid_input",
      message: expect.stringMatching(/in the past/),
    });
    expect((await post({ title: "now", due: "today" })).status).toBe(201);
  });

  it("reports a trashed task as status deleted", async () => {
    const { task } = await (await post({ title: "trash me" })).json();
    const deleted = await (await gw.api(`/api/tasks/${task.id}`, token, { method: "DELETE" })).json();
    expect(deleted.task.status).toBe("deleted");
    const trash = await (await gw.api("/api/tasks?status=deleted", token)).json();
    expect(trash.tasks.map((t: { status: string }) => t.status)).toEqual(["deleted"]);
  });
});
