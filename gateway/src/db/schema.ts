export * from "./auth-schema.ts";
export * from "./chat-schema.ts";
export * from "./limits-schema.ts";
export * from "./oauth-schema.ts";
export * from "./task-schema.ts";
