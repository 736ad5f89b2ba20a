import { useEffect, useState } from "react";
import type { WxtStorageItem } from "wxt/utils/storage";

const same = (a: unknown, b: unknown) => a === b || JSON.stringify(a) === JSON.stringify(b);

/**
 * A storage item's value, kept current as any context changes it. `undefined` until first read, unless an
 * `initial` value read earlier is given (it is read again once watched, so no change in between is missed).
 */
export function useStorageItem<T>(
  item: WxtStorageItem<T, Record<string, unknown>>,
  initial?: T,
): T | undefined {
  const [value, setValue] = useState<T | undefined>(initial);
  useEffect(() => {
    let alive = true;
    const unwatch = item.watch((v) => setValue(v));
    void item.getValue().then((v) => alive && setValue((old) => (same(old, v) ? old : v)));
    return () => {
      alive = false;
      unwatch();
    };
  }, [item]);
  return value;
}
