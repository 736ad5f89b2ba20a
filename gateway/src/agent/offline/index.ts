import type { Model } from "@openai/agents";
import { type OfflineContext, OfflineModel } from "./model.ts";

/** The offline command model for one turn (it reads the turn's page and the user's zone and date). */
export function createOfflineModel(ctx: OfflineContext): Model {
  return new OfflineModel(ctx);
}

export { parseCommand, selectionLines } from "./commands.ts";
