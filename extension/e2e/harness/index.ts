import type { Page } from "playwright-core";
import { type ExtensionBrowser, launchBrowser, openPanel, unpackedExtensionId } from "./browser.ts";
import { signInThroughPanel } from "./sign-in.ts";
import { type Stack, startStack } from "./stack.ts";

export * from "./browser.ts";
export * from "./sign-in.ts";
export * from "./stack.ts";
export * from "./test-pages.ts";

export type SignedInPanel = { browser: ExtensionBrowser; panel: Page; token: string };

/**
 * The usual start of an end-to-end test: the stack (gateway + MCP server + Postgres, offline model) and a
 * Chromium profile with the extension, signed in through the device flow, with the panel open.
 */
export async function startSignedIn(
  opts: { email: string; tabId?: number; env?: Record<string, string>; defaultPorts?: boolean } = {
    email: "e2e@example.com",
  },
): Promise<{
  stack: Stack;
  profile: SignedInPanel;
  /** Another profile signed in to the same account (a second browser). */
  addProfile(email?: string): Promise<SignedInPanel>;
  close(): Promise<void>;
}> {
  const stack = await startStack({
    extensionOrigins: [`chrome-extension://${unpackedExtensionId()}`],
    env: opts.env,
    defaultPorts: opts.defaultPorts,
  });
  const browsers: ExtensionBrowser[] = [];
  const signedIn = async (email: string, createAccount: boolean): Promise<SignedInPanel> => {
    const browser = await launchBrowser();
    browsers.push(browser);
    if (browser.extensionId !== unpackedExtensionId())
      throw new Error(
        `extension id ${browser.extensionId} is not the one the gateway allows (${unpackedExtensionId()})`,
      );
    const panel = await openPanel(browser, { tabId: opts.tabId });
    const token = await signInThroughPanel(browser, panel, {
      gatewayUrl: stack.gatewayUrl,
      email,
      createAccount,
    });
    return { browser, panel, token };
  };
  try {
    const profile = await signedIn(opts.email, true);
    return {
      stack,
      profile,
      addProfile: (email = opts.email) => signedIn(email, email !== opts.email),
      async close() {
        for (const b of browsers) await b.close();
        await stack.close();
      },
    };
  } catch (err) {
    for (const b of browsers) await b.close();
    await stack.close();
    throw err;
  }
}
