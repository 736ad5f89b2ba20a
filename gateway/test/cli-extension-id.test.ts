import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEV_EXTENSION_ORIGIN, loadConfig } from "../src/config.ts";

const BUILT_MANIFEST = new URL("../../extension/.output/chrome-mv3/manifest.json", import.meta.url);
const key = readFileSync(new URL("../../extension/dev-public-key.txt", import.meta.url), "utf8").trim();

/** Chrome's extension id: sha256 of the public key's DER bytes, the first 32 hex digits mapped to a–p. */
function chromeExtensionId(publicKeyBase64: string): string {
  const hex = createHash("sha256").update(Buffer.from(publicKeyBase64, "base64")).digest("hex").slice(0, 32);
  return [...hex].map((c) => String.fromCharCode(97 + Number.parseInt(c, 16))).join("");
}

describe("the development extension's fixed id", () => {
  it("is the id Chrome derives from the manifest key, and the gateway allows it by default", () => {
    expect(key).toMatch(/^MII[A-Za-z0-9+/]+=*$/); // a DER public key, base64
    expect(DEV_EXTENSION_ORIGIN).toBe(`chrome-extension://${chromeExtensionId(key)}`);
    const env = { DATABASE_URL: "postgres://h/db" };
    expect(loadConfig(env, { secrets: [] }).extensionOrigins).toEqual([DEV_EXTENSION_ORIGIN]);
    // Set, it replaces the default (a store build has the store's id).
    expect(
      loadConfig({ ...env, EXTENSION_ORIGINS: "chrome-extension://abc" }, { secrets: [] }).extensionOrigins,
    ).toEqual(["chrome-extension://abc"]);
  });

  // Built by `pnpm start` or the extension's tests; the newcomer test builds it from a clean clone.
  it.skipIf(!existsSync(BUILT_MANIFEST))("is in the built Chrome manifest", () => {
    expect(JSON.parse(readFileSync(BUILT_MANIFEST, "utf8")).key).toBe(key);
  });
});
