import { Temporal } from "temporal-polyfill";
import { InvalidTaskInputError } from "./errors.ts";

/** Opaque keyset-pagination cursors: the sort key of the last task on a page, tagged with the list's order. */
export function encodeCursor(kind: string, key: (string | number)[]): string {
  return Buffer.from(JSON.stringify([kind, ...key])).toString("base64url");
}

export function decodeCursor(cursor: string, kind: string): (string | number)[] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(value) && value[0] === kind && value.length >= 3 && value.slice(1).every(isKeyPart)) {
      return value.slice(1);
    }
  } catch {
    // fall through to the error below
  }
  throw new InvalidTaskInputError(
    "The cursor is not valid for this list. Call list_tasks again with the same filters and no cursor.",
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Cursor parts reach SQL casts, so only values Postgres takes pass: real instants (Date.parse would accept
// 2026-02-30, which Postgres refuses), finite numbers and uuids.
function isKeyPart(v: unknown): boolean {
  if (typeof v === "number") return Number.isFinite(v);
  if (typeof v !== "string") return false;
  return v === "infinity" || UUID.test(v) || isInstant(v);
}

function isInstant(v: string): boolean {
  if (!/^[1-9]\d{3}-\d{2}-\d{2}T[\d:.]+Z$/.test(v)) return false; // Postgres has no year 0
  try {
    Temporal.Instant.from(v);
    return true;
  } catch {
    return false;
  }
}
