import { randomBytes } from "node:crypto";
import { toNodeHandler } from "better-auth/node";
import { Router } from "express";
import type { Auth } from "./auth.ts";
import { devicePageHeaders, renderDevicePage } from "./device-page.ts";

/**
 * better-auth under /api/auth and the device approval page at /device. Mount at the root and before
 * `express.json()`: better-auth reads the raw body itself (gateway-recipes A10).
 */
export function createAuthRouter(auth: Auth): Router {
  const router = Router();
  // Express 5 wildcard syntax; "/api/auth/*" throws at start-up (gateway-recipes A9).
  router.all("/api/auth/{*any}", toNodeHandler(auth));
  router.get("/device", (req, res) => {
    const code = typeof req.query.user_code === "string" ? req.query.user_code.slice(0, 64) : "";
    const nonce = randomBytes(16).toString("base64");
    res
      .set(devicePageHeaders(nonce))
      .type("html")
      .send(renderDevicePage({ nonce, userCode: code }));
  });
  return router;
}
