import type { PageContext } from "./protocol.ts";

type Fetch = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

// The requests that can start a model turn: the page the user is on travels with them (metadata.page).
const TURN_REQUESTS = new Set([
  "threads.create",
  "threads.add_user_message",
  "threads.add_client_tool_output",
  "threads.add_structured_input",
  "threads.retry_after_item",
  "threads.custom_action",
]);

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Adds `metadata.page` to a ChatKit request body that can start a turn; other bodies pass unchanged. */
export function withPageContext(body: string, page: PageContext | null): string {
  if (!page) return body;
  let request: unknown;
  try {
    request = JSON.parse(body);
  } catch {
    return body;
  }
  if (!isRecord(request) || typeof request.type !== "string" || !TURN_REQUESTS.has(request.type)) return body;
  const metadata = isRecord(request.metadata) ? request.metadata : {};
  return JSON.stringify({ ...request, metadata: { ...metadata, page } });
}

/**
 * This browser's locale with its hour cycle spelled out ("en-US-u-hc-h12"): the locale the side panel formats
 * times in (extension/src/panel/format.ts), so the widgets the server draws show times the same way.
 */
export function clockLocale(): string {
  const { locale, hourCycle } = new Intl.DateTimeFormat(undefined, { hour: "numeric" }).resolvedOptions();
  return hourCycle ? new Intl.Locale(locale, { hourCycle }).toString() : locale;
}

/** Adds `metadata.locale` to any ChatKit request body: any of them may draw a task list. */
export function withLocale(body: string, locale: string): string {
  let request: unknown;
  try {
    request = JSON.parse(body);
  } catch {
    return body;
  }
  if (!isRecord(request)) return body;
  const metadata = isRecord(request.metadata) ? request.metadata : {};
  return JSON.stringify({ ...request, metadata: { ...metadata, locale } });
}

/**
 * The `api.fetch` given to ChatKit: every request carries the panel's bearer token and the browser's locale,
 * turns carry the page context, and a 401 is reported so the panel can sign in again.
 */
export function createChatKitFetch(opts: {
  session(): { token: string | null; page: PageContext | null };
  onUnauthorized(): void;
  fetch?: Fetch;
}): Fetch {
  const base = opts.fetch ?? ((input, init) => fetch(input, init));
  return async (input, init = {}) => {
    const { token, page } = opts.session();
    const headers = new Headers(init.headers);
    if (token) headers.set("authorization", `Bearer ${token}`);
    const body =
      typeof init.body === "string" ? withLocale(withPageContext(init.body, page), clockLocale()) : init.body;
    const response = await base(input, { ...init, headers, body });
    if (response.status === 401) opts.onUnauthorized();
    return response;
  };
}
