import { z } from "zod/mini";

// Written into the page by the gateway (src/http/panel-page.ts) as a JSON data block, which runs nothing.
export const ShellConfigSchema = z.object({
  apiUrl: z.string(),
  /** null when the server has no CHATKIT_DOMAIN_KEY and is not on localhost: ChatKit would refuse to load. */
  domainKey: z.nullable(z.string()),
  scriptUrl: z.string(),
  parentOrigins: z.array(z.string()),
  loadTimeoutMs: z.number(),
});
export type ShellConfig = z.infer<typeof ShellConfigSchema>;

export const CONFIG_ELEMENT_ID = "margin-config";

export function readShellConfig(doc: {
  getElementById(id: string): { textContent: string | null } | null;
}): ShellConfig {
  const text = doc.getElementById(CONFIG_ELEMENT_ID)?.textContent;
  if (!text) throw new Error("The page has no configuration; open it through the Margin gateway.");
  return ShellConfigSchema.parse(JSON.parse(text));
}
