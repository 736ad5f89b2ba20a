import type { Db } from "../db/connect.ts";
import type { Logger } from "../logger.ts";
import { deleteStaleTurnCounts } from "./rate-limit.ts";
import { deleteIdleThreads } from "./store.ts";

const SWEEP_EVERY_MS = 60 * 60_000;

/**
 * `CHAT_RETENTION_DAYS`: threads idle for longer are deleted with their items, hourly (and shortly after
 * start). 0 keeps threads forever. Several instances may sweep at once: a delete is idempotent.
 */
export function startRetentionSweep(
  db: Db,
  days: number,
  logger: Logger,
): { stop(): void; sweep(): Promise<number> } {
  const sweep = async () => {
    await deleteStaleTurnCounts(db);
    if (days <= 0) return 0;
    const deleted = await deleteIdleThreads(db, days);
    if (deleted > 0) logger.info({ deleted, days }, "deleted idle chat threads");
    return deleted;
  };
  const run = () => void sweep().catch((err) => logger.warn({ err }, "chat retention sweep failed"));
  const first = setTimeout(run, 30_000);
  const timer = setInterval(run, SWEEP_EVERY_MS);
  first.unref();
  timer.unref();
  return {
    sweep,
    stop() {
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}
