import { ClientError } from "./errors.js";

/**
 * `value ?? fallback`, checked to be a positive safe integer.
 * @throws ClientError `INVALID_CONFIG` naming the option.
 */
export function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v <= 0) throw new ClientError("INVALID_CONFIG", `${name} must be a positive integer, got ${String(v)}`);
  return v;
}

/**
 * `value ?? fallback`, checked to be a non-negative safe integer.
 * @throws ClientError `INVALID_CONFIG` naming the option.
 */
export function nonNegativeInteger(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 0) throw new ClientError("INVALID_CONFIG", `${name} must be a non-negative integer, got ${String(v)}`);
  return v;
}
