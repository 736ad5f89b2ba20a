import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { TODOIST_COLUMNS } from "../../src/account/csv.ts";
import { createTaskRepository } from "../../src/tasks/repository.ts";
import { marginCliForFile } from "../support/cli.ts";
import { testDbKind } from "../support/database.ts";

const cli = marginCliForFile("export");
const { database, margin } = cli;

describe("margin export", () => {
  it("prints a user's export, or writes the Todoist CSV to a file", async () => {
    const created = await margin(
      ["user", "create", "--email", "leaving@example.com", "--tz", "Europe/Berlin"],
      {
        MARGIN_PASSWORD: "long-enough-pw",
      },
    );
    const { id } = JSON.parse(created.stdout) as { id: string };
    // On Postgres the test can write beside the CLI; the embedded database is the CLI's alone.
    const titles = testDbKind === "postgres" ? ["buy milk", "done"] : [];
    if (titles.length) {
      const tasks = createTaskRepository(database.db).forUser({ id, tz: "Europe/Berlin" });
      await tasks.add({ title: "buy milk", due: "2099-01-02", labels: ["shop"] });
      await tasks.complete((await tasks.add({ title: "done" })).task.id);
    }

    const { stdout } = await margin(["export", "--email", "leaving@example.com"]);
    const data = JSON.parse(stdout) as {
      format: string;
      user: { email: string };
      tasks: { title: string }[];
    };
    expect(data).toMatchObject({ format: "margin-export", user: { email: "leaving@example.com" } });
    expect(data.tasks.map((t) => t.title).sort()).toEqual(titles);

    const out = path.join(cli.dataDir, "tasks.csv");
    await margin(["export", "--email", "leaving@example.com", "--format", "csv", "--out", out]);
    const csv = readFileSync(out, "utf8");
    expect(csv.split("\r\n")[0]).toBe(TODOIST_COLUMNS.join(","));
    if (titles.length)
      expect(csv).toContain("task,buy milk @shop,,4,1,,,2099-01-02,en,Europe/Berlin,,,,\r\n");
    expect(csv).not.toContain("done");
  }, 120_000); // three CLI runs; each boots the embedded database on PGlite

  it("says so for an unknown email or a bad format", async () => {
    const unknown = await margin(["export", "--email", "nobody@example.com"]).catch((e) => e);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/No user with the email nobody@example.com/);
    const bad = await margin(["export", "--email", "x@example.com", "--format", "xml"]).catch((e) => e);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--format: json or csv/);
  }, 60_000);
});
