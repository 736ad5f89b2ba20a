import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import express, { type RequestHandler } from "express";

// What MCP clients send: JSON in UTF-8, with a length, not compressed.
const PLAIN_JSON = /^application\/json(?:\s*;\s*charset="?utf-8"?)?$/i;

/** A plain JSON body of known length within the limit: the one body `readJsonBody` reads. */
export function isPlainJsonBody(headers: IncomingHttpHeaders, limit: number): boolean {
  const length = Number(headers["content-length"]);
  return (
    length > 0 &&
    length <= limit &&
    headers["transfer-encoding"] === undefined &&
    (headers["content-encoding"] === undefined || headers["content-encoding"] === "identity") &&
    PLAIN_JSON.test(headers["content-type"] ?? "")
  );
}

type BodyRead = { body: unknown } | { error: Error };

/**
 * Reads a plain JSON body and parses it as body-parser's strict JSON parser does: BOM dropped, only an object or
 * an array. A failure carries the status and type body-parser would give it, which is all the error handler reads.
 */
export function readJsonBody(req: IncomingMessage, done: (read: BodyRead) => void): void {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.once("error", (err) => done({ error: Object.assign(err, { status: 400, type: "request.aborted" }) }));
  req.once("end", () => {
    let text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString("utf8");
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    try {
      done({ body: parseStrict(text) });
    } catch (err) {
      done({ error: Object.assign(err as Error, { status: 400, type: "entity.parse.failed" }) });
    }
  });
}

function parseStrict(text: string): unknown {
  if (text.length === 0) return {};
  if (text[0] !== "{" && text[0] !== "[") {
    const first = /^[ \t\n\r]*(.?)/.exec(text)?.[1];
    if (first !== "{" && first !== "[") throw new SyntaxError("JSON body must be an object or an array");
  }
  return JSON.parse(text);
}

/** Bodies read before the request reached Express (see http.ts), for `jsonBody` to hand on. */
const readEarlier = new WeakMap<IncomingMessage, BodyRead>();
export function rememberBody(req: IncomingMessage, read: BodyRead): void {
  readEarlier.set(req, read);
}

/**
 * `express.json({ limit })` with the common request read directly (`readJsonBody`): body-parser spends about
 * 30 µs per request on the generality a plain JSON body doesn't need (content-type and charset parsing, a
 * decoder stream, raw-body's bookkeeping). Anything else (no or zero length, chunked, compressed, another
 * charset, over the limit) goes to express.json, which answers it as before.
 */
export function jsonBody(limit: number): RequestHandler {
  const general = express.json({ limit });
  const settle = (req: express.Request, next: express.NextFunction, read: BodyRead) => {
    if ("error" in read) return next(read.error);
    req.body = read.body;
    next();
  };
  return (req, res, next) => {
    const earlier = readEarlier.get(req);
    if (earlier) return settle(req, next, earlier);
    if (!isPlainJsonBody(req.headers, limit)) return general(req, res, next);
    readJsonBody(req, (read) => settle(req, next, read));
  };
}
