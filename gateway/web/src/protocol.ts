// The postMessage bridge between the extension's side panel (the parent frame) and this page.
// The extension's copy lives in extension/src/chat/frame-protocol.ts; the two must agree.
//
// Handshake: the panel opens `/chatkit/panel#nonce=<random>`; this page announces itself with a `hello` that
// carries nothing secret; the panel answers `init` (token, page) addressed to the gateway's origin. Every
// later message in either direction carries the nonce, and this page answers only the origin it verified.
import { z } from "zod/mini";

export const PANEL_SOURCE = "margin-panel";
export const SHELL_SOURCE = "margin-chatkit";

export const PageContextSchema = z.object({
  url: z.string().check(z.maxLength(4096)),
  title: z.string().check(z.maxLength(1000)),
  selection: z.optional(z.string().check(z.maxLength(20_000))),
  excerpt: z.optional(z.string().check(z.maxLength(20_000))),
});
export type PageContext = z.infer<typeof PageContextSchema>;

const token = z.string().check(z.minLength(1), z.maxLength(4096));
const nonce = z.string().check(z.minLength(16), z.maxLength(200));

/** What the panel may send. Anything else is ignored. */
export const PanelMessageSchema = z.discriminatedUnion("type", [
  z.object({
    source: z.literal(PANEL_SOURCE),
    nonce,
    type: z.literal("init"),
    token,
    page: z.nullable(z.optional(PageContextSchema)),
    threadId: z.nullable(z.optional(z.string().check(z.maxLength(200)))),
    colorScheme: z.optional(z.enum(["light", "dark"])),
  }),
  z.object({ source: z.literal(PANEL_SOURCE), nonce, type: z.literal("token"), token }),
  z.object({
    source: z.literal(PANEL_SOURCE),
    nonce,
    type: z.literal("page"),
    page: z.nullable(PageContextSchema),
  }),
]);
export type PanelMessage = z.infer<typeof PanelMessageSchema>;

/** What this page tells the panel (besides the nonce and `source`). */
export type ShellMessage =
  | { type: "hello" }
  | { type: "ready" }
  | { type: "unavailable"; reason: string }
  | { type: "effect"; name: string; data: Record<string, unknown> }
  | { type: "error"; message: string }
  | { type: "auth-error" }
  | { type: "thread"; threadId: string | null };
