// A minimal browser for the OAuth pages: top-level navigations and form posts with the headers a browser
// sends (Node's fetch always says `sec-fetch-mode: cors`, which better-auth answers with JSON instead of a
// redirect), a cookie jar, and no automatic redirects so each hop can be checked.
import { createHash, randomBytes } from "node:crypto";
import { request } from "node:http";

export type Page = {
  status: number;
  location?: string;
  headers: Record<string, string | string[]>;
  body: string;
};

export type Browser = {
  navigate(url: string): Promise<Page>;
  submit(url: string, form: Record<string, string>): Promise<Page>;
  cookies: Map<string, string>;
};

export function createBrowser(): Browser {
  const cookies = new Map<string, string>();

  const send = (url: string, method: "GET" | "POST", form?: Record<string, string>) =>
    new Promise<Page>((resolve, reject) => {
      const target = new URL(url);
      const body = form ? new URLSearchParams(form).toString() : undefined;
      const headers: Record<string, string> = {
        accept: "text/html,application/xhtml+xml",
        "sec-fetch-mode": "navigate",
        "sec-fetch-dest": "document",
        "sec-fetch-site": method === "POST" ? "same-origin" : "none",
        "user-agent": "Mozilla/5.0 (test browser)",
      };
      if (cookies.size) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join("; ");
      if (body) {
        headers["content-type"] = "application/x-www-form-urlencoded";
        headers["content-length"] = String(Buffer.byteLength(body));
        headers.origin = target.origin; // a same-origin form post under Referrer-Policy: same-origin
      }
      const req = request(target, { method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          for (const line of res.headers["set-cookie"] ?? []) {
            const [pair = "", ...attributes] = line.split(";");
            const [name = "", ...value] = pair.trim().split("=");
            const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a));
            if (expired || value.join("=") === "") cookies.delete(name);
            else cookies.set(name, value.join("="));
          }
          resolve({
            status: res.statusCode ?? 0,
            location: res.headers.location ? new URL(res.headers.location, target).href : undefined,
            headers: res.headers as Record<string, string | string[]>,
            body: Buffer.concat(chunks).toString("utf8"),
          });
        });
      });
      req.on("error", reject);
      req.end(body);
    });

  return {
    cookies,
    navigate: (url) => send(url, "GET"),
    submit: (url, form) => send(url, "POST", form),
  };
}

/** The hidden fields of the first form on a page (oauth_query and csrf on the consent page). */
export function hiddenFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[m[1]!] ??= decodeEntities(m[2]!);
  }
  return fields;
}

function decodeEntities(s: string): string {
  return s
    .replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
}

/** An RFC 7636 verifier and its S256 challenge. */
export function pkcePair() {
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  return { verifier, challenge };
}
