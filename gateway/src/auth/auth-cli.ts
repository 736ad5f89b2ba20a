// Entry point only for the better-auth schema generator (`npx auth generate`); never queried.
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "../db/schema.ts";
import { createAuth } from "./auth.ts";

export const auth = createAuth(drizzle(postgres("postgres://localhost/unused"), { schema }), {
  baseURL: "http://localhost",
  secret: "x".repeat(32),
  trustedOrigins: [],
});
