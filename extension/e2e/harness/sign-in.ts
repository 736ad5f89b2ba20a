import type { Page } from "playwright-core";
import type { ExtensionBrowser } from "./browser.ts";

export const TEST_PASSWORD = "correct horse battery";

/**
 * Signs the panel in the way a person does: set the server address, press Sign in, then on the approval page
 * that opens create the account (or sign in) and approve the code. Resolves with the session token.
 */
export async function signInThroughPanel(
  browser: ExtensionBrowser,
  panel: Page,
  opts: { gatewayUrl: string; email: string; password?: string; createAccount?: boolean },
): Promise<string> {
  const password = opts.password ?? TEST_PASSWORD;
  if ((await panel.getByTestId("gateway-url").inputValue()) !== opts.gatewayUrl) {
    await panel.getByTestId("gateway-url").fill(opts.gatewayUrl);
    await panel.getByRole("button", { name: "Save" }).click();
    await panel.locator("button:disabled", { hasText: "Save" }).waitFor();
  }
  const approvalOpened = browser.context.waitForEvent("page", { timeout: 30_000 });
  await panel.getByTestId("sign-in-button").click();
  const code = (await panel.getByTestId("device-code").textContent({ timeout: 30_000 }))?.trim();
  const approval = await approvalOpened;
  await approval.waitForLoadState();
  const shown = new URL(approval.url()).searchParams.get("user_code");
  if (shown !== code) throw new Error(`the approval page shows code ${shown}, the panel ${code}`);
  // The approval page remembers its own sign-in (a cookie on the gateway's origin): then it asks only to approve.
  await approval.locator("#signed-out:visible, #signed-in:visible").first().waitFor({ timeout: 30_000 });
  if (await approval.locator("#signed-out").isVisible()) {
    await approval.locator("#email").fill(opts.email);
    await approval.locator("#password").fill(password);
    await approval
      .locator(`button[data-action="${opts.createAccount === false ? "sign-in" : "sign-up"}"]`)
      .click();
  }
  await approval.locator('button[data-action="approve"]').click({ timeout: 30_000 });
  await approval.locator("#status", { hasText: "Approved" }).waitFor({ timeout: 30_000 });
  await approval.close();
  await panel.getByTestId("view-tasks").waitFor({ timeout: 30_000 });
  return sessionToken(browser);
}

/** The bearer token the extension keeps (local storage only). */
export async function sessionToken(browser: ExtensionBrowser): Promise<string> {
  const token = await browser.worker.evaluate(async () => {
    const { session } = (await chrome.storage.local.get("session")) as { session?: { token: string } };
    return session?.token;
  });
  if (!token) throw new Error("the extension holds no session");
  return token;
}
