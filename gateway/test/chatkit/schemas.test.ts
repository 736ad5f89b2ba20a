import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import {
  attachment,
  chatKitRequest,
  page,
  REQUEST_TYPES,
  syncCustomActionResponse,
  thread,
  threadItem,
  threadStreamEvent,
  transcriptionResult,
  widgetRoot,
} from "../../src/chatkit/types.ts";
import { fixturesDir, readSseFile } from "./fixtures.ts";

const json = (file: string) => JSON.parse(readFileSync(path.join(fixturesDir, file), "utf8"));
const files = (dir: string) =>
  readdirSync(path.join(fixturesDir, dir))
    .filter((f) => f.endsWith(".json") && !f.startsWith("_"))
    .map((f) => path.join(dir, f));

const expectValid = (schema: z.ZodType, value: unknown, label: string) => {
  const result = schema.safeParse(value);
  expect(result.success, `${label}: ${result.error?.message}`).toBe(true);
};

describe("the zod schemas accept every valid golden fixture", () => {
  it.each([...files("requests"), ...files("requests/variants")])("request %s", (file) => {
    expectValid(chatKitRequest, json(file), file);
  });

  it("covers all 16 request types", () => {
    const seen = new Set(files("requests").map((f) => json(f).type));
    expect([...seen].sort()).toEqual([...REQUEST_TYPES].sort());
    expect(REQUEST_TYPES).toHaveLength(16);
  });

  it.each(files("events"))("event %s", (file) => {
    expectValid(threadStreamEvent, json(file), file);
  });

  it.each(files("items"))("item %s", (file) => {
    expectValid(threadItem, json(file), file);
  });

  it.each(files("widgets"))("widget %s", (file) => {
    expectValid(widgetRoot, json(file), file);
  });

  it.each(
    readdirSync(path.join(fixturesDir, "streams"), { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".sse"))
      .map((f) => path.join("streams", f)),
  )("every frame of stream %s", (file) => {
    const frames = readSseFile(file);
    expect(frames.length).toBeGreaterThan(0);
    for (const frame of frames) expectValid(threadStreamEvent, frame, `${file}: ${JSON.stringify(frame)}`);
  });

  const responses: Record<string, z.ZodType> = {
    "threads.get_by_id": thread,
    "threads.update": thread,
    "threads.list": page(thread),
    "items.list": page(threadItem),
    "attachments.create": attachment,
    "input.transcribe": transcriptionResult,
    "threads.sync_custom_action": syncCustomActionResponse,
  };
  it.each(files("responses"))("response %s", (file) => {
    const type = path.basename(file, ".json");
    const body = json(file);
    const schema = responses[type];
    if (schema) expectValid(schema, body, file);
    else expect(body).toEqual({});
  });
});

describe("the zod schemas reject every invalid fixture", () => {
  const index = json("invalid/_index.json") as { file: string; why: string }[];

  it("has the ten documented cases", () => {
    expect(index.map((i) => i.file).sort()).toEqual(
      files("invalid")
        .map((f) => path.basename(f))
        .sort(),
    );
  });

  it.each(index)("$file ($why)", ({ file }) => {
    expect(chatKitRequest.safeParse(json(path.join("invalid", file))).success).toBe(false);
  });
});
