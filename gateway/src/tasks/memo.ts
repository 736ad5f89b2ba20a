/**
 * A pure function of a string, computed once per distinct key. Bounded: past `max` keys the oldest goes first,
 * so a stream of one-off keys can't grow memory.
 */
export function memoize<T>(fn: (key: string) => T, max = 10_000): (key: string) => T {
  const cache = new Map<string, T>();
  return (key) => {
    if (cache.has(key)) return cache.get(key) as T;
    const value = fn(key);
    if (cache.size >= max) cache.delete(cache.keys().next().value!);
    cache.set(key, value);
    return value;
  };
}
