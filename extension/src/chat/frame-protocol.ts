// The panel's side of the postMessage bridge to the gateway's ChatKit shell page (/chatkit/panel).
// The page's copy is gateway/web/src/protocol.ts; the two must agree.
//
// Handshake: the panel opens `/chatkit/panel#nonce=<random>`; the page announces itself with a `hello` that
// carries nothing secret; the panel answers `init` (token, page) addressed to the gateway's origin only. Every
// later message in either direction carries the nonce.
import { z } from "zod/mini";

export const PANEL_SOURCE = "margin-panel";
export const SHELL_SOURCE = "margin-chatkit";

/** The page the user is on, as the shell page and `metadata.page` accept it (same caps as the gateway). */
export type PageContext = { url: string; title: string; selection?: string; excerpt?: string };

const LIMITS = { url: 4096, title: 1000, selection: 20_000, excerpt: 20_000 } as const;

/** The page card's page as chat context, cut to what the gateway accepts; null when there is no page. */
export function toPageContext(
  page: { url: string; title: string; selection?: string; excerpt?: string } | null,
): PageContext | null {
  if (!page?.url || page.url.length > LIMITS.url) return null;
  const context: PageContext = { url: page.url, title: page.title.slice(0, LIMITS.title) };
  if (page.selection) context.selection = page.selection.slice(0, LIMITS.selection);
  if (page.excerpt) context.excerpt = page.excerpt.slice(0, LIMITS.excerpt);
  return context;
}

/** What the panel sends (besides `source` and `nonce`). */
export type PanelMessage =
  | {
      type: "init";
      token: string;
      page: PageContext | null;
      threadId: string | null;
      colorScheme?: "light" | "dark";
    }
  | { type: "token"; token: string }
  | { type: "page"; page: PageContext | null };

const nonce = z.string();
/** What the shell page may tell the panel. Anything else is ignored. */
export const ShellMessageSchema = z.discriminatedUnion("type", [
  z.object({ source: z.literal(SHELL_SOURCE), type: z.literal("hello") }),
  z.object({ source: z.literal(SHELL_SOURCE), nonce, type: z.literal("ready") }),
  z.object({
    source: z.literal(SHELL_SOURCE),
    nonce,
    type: z.literal("unavailable"),
    reason: z.string().check(z.maxLength(1000)),
  }),
  z.object({
    source: z.literal(SHELL_SOURCE),
    nonce,
    type: z.literal("effect"),
    name: z.string().check(z.maxLength(200)),
    data: z.record(z.string(), z.unknown()),
  }),
  z.object({
    source: z.literal(SHELL_SOURCE),
    nonce,
    type: z.literal("error"),
    message: z.string().check(z.maxLength(2000)),
  }),
  z.object({ source: z.literal(SHELL_SOURCE), nonce, type: z.literal("auth-error") }),
  z.object({
    source: z.literal(SHELL_SOURCE),
    nonce,
    type: z.literal("thread"),
    threadId: z.nullable(z.string()),
  }),
]);
export type ShellMessage = z.infer<typeof ShellMessageSchema>;

/** A fresh secret for one frame: 32 hex characters from the CSPRNG. */
export function newNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
