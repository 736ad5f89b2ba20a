import { z } from "zod";
import type { PageContext } from "../agent/contract.ts";

// Caps on what a page may contribute: the body limit bounds the request, these bound what is stored and what
// the model reads. Long text is cut, not refused: a long article must not stop the user from chatting.
const cut = (max: number) => z.string().transform((s) => (s.length > max ? `${s.slice(0, max - 1)}…` : s));

export const PAGE_LIMITS = { url: 2048, title: 300, selection: 4000, excerpt: 4000 } as const;

/** `metadata.page` of a ChatKit request: the page the user is on. Untrusted data, never instructions. */
export const pageContextSchema = z.object({
  url: z
    .url({ error: "metadata.page.url must be a URL" })
    .max(PAGE_LIMITS.url, "metadata.page.url is too long"),
  title: cut(PAGE_LIMITS.title),
  selection: cut(PAGE_LIMITS.selection).optional(),
  excerpt: cut(PAGE_LIMITS.excerpt).optional(),
}) satisfies z.ZodType<PageContext, unknown>;

export const requestMetadataSchema = z.looseObject({ page: pageContextSchema.nullish() });

/** Same page, same text: stored once per change, not once per message. */
export const samePage = (a: PageContext | undefined, b: PageContext | undefined) =>
  a !== undefined &&
  b !== undefined &&
  a.url === b.url &&
  a.title === b.title &&
  (a.selection ?? "") === (b.selection ?? "") &&
  (a.excerpt ?? "") === (b.excerpt ?? "");
