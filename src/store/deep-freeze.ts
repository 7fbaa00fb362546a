// Both stores hand out their cached objects, not copies: freezing them turns a controller that
// edits an object it read (and so corrupts the cache) into an immediate TypeError.
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
