import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Golden fixtures made by the Python reference server (openai/chatkit-python 1.6.5); a copy of
 * reference/chatkit-fixtures kept with the tests so a clean clone has them. See fixtures/README.md.
 */
export const fixturesDir = fileURLToPath(new URL("./fixtures/", import.meta.url));

export const readFixture = (file: string): unknown =>
  JSON.parse(readFileSync(path.join(fixturesDir, file), "utf8"));

/** The JSON events of a `.sse` fixture, in order. */
export function readSseFile(file: string): Record<string, unknown>[] {
  return parseSse(readFileSync(path.join(fixturesDir, file), "utf8"));
}

/** ChatKit SSE: each event is exactly `data: <json>\n\n`. */
export function parseSse(text: string): Record<string, unknown>[] {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      if (!block.startsWith("data: ")) throw new Error(`not a ChatKit SSE frame: ${block.slice(0, 80)}`);
      return JSON.parse(block.slice("data: ".length));
    });
}

/** An event's shape for order comparisons: its type plus the item or update type it carries. */
export function eventShape(event: Record<string, unknown>): string {
  const item = event.item as { type?: string } | undefined;
  const update = event.update as { type?: string } | undefined;
  if (item?.type) return `${event.type}(${item.type})`;
  if (update?.type) return `${event.type}[${update.type}]`;
  return String(event.type);
}
