import { once } from "node:events";
import { createServer, type Server } from "node:http";

/**
 * Local web pages to capture: /article/<n> has a title, a paragraph to select and body text to excerpt;
 * /list/<n> has a to-do list (#todo) to select.
 */
export async function startTestPages(): Promise<{
  origin: string;
  url(n: number | string): string;
  /** /list/<n> */
  listUrl(n: number | string): string;
  close(): Promise<void>;
}> {
  const server: Server = createServer((req, res) => {
    const n = decodeURIComponent(req.url?.split("/").pop() ?? "0");
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    if (req.url?.startsWith("/list/")) {
      res.end(`<!doctype html><html lang="en"><head><title>Test list ${n}</title></head><body>
<h1>Test list ${n}</h1>
<ul id="todo"><li>Buy stamps</li><li>Email Ana</li><li>Book the dentist</li></ul></body></html>`);
      return;
    }
    res.end(`<!doctype html><html lang="en"><head><title>Test article ${n}</title></head><body>
<article><h1>Test article ${n}</h1>
<p id="quote">Margins are where the reader talks back to the text.</p>
<p>${"A paragraph of readable text about notes in the margin. ".repeat(20)}</p>
</article></body></html>`);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    origin,
    url: (n) => `${origin}/article/${n}`,
    listUrl: (n) => `${origin}/list/${n}`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
