// How the user reads dates and times in the chat's widgets: the panel's own locale, hour cycle included, so a
// widget says "5:00 PM" where the panel does (or "17:00").

/** For a client that says nothing: day before month, 24-hour times. */
export const DEFAULT_LOCALE = "en-GB";

/** A BCP 47 tag Intl can format with ("en-US-u-hc-h12"), canonical; undefined for anything else. */
export function usableLocale(tag: unknown): string | undefined {
  if (typeof tag !== "string" || !tag || tag.length > 100 || tag === "*") return undefined;
  try {
    const [canonical] = Intl.getCanonicalLocales(tag);
    return canonical && Intl.DateTimeFormat.supportedLocalesOf(canonical).length ? canonical : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The locale of one ChatKit request: `metadata.locale` (the clients send the browser's, with its hour cycle),
 * else the first usable Accept-Language, else the default.
 */
export function requestLocale(metadataLocale: unknown, acceptLanguages: string[]): string {
  return (
    usableLocale(metadataLocale) ??
    acceptLanguages.map(usableLocale).find((l) => l !== undefined) ??
    DEFAULT_LOCALE
  );
}
