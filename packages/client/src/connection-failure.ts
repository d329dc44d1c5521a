/**
 * How a request failed to reach the broker, judged from the `fetch` error (Node's fetch puts the socket
 * error in `cause`; a dual-stack connect, an `AggregateError` of one error per address):
 *
 * - `"refused"`: no connection was made (`ECONNREFUSED`: nothing listens on the port, e.g. a broker
 *   restarting). The request never left this process: sending it again cannot apply it twice.
 * - `"reset"`: the connection broke before an answer (`ECONNRESET`, `EPIPE`, undici's "other side
 *   closed"). The broker may or may not have received and applied the request.
 * - `undefined`: anything else.
 *
 * Internal.
 */
export function connectionFailure(error: unknown): "refused" | "reset" | undefined {
  const codes = new Set<string>();
  collect(error, codes, 0);
  if (codes.has("ECONNREFUSED")) return "refused";
  for (const code of RESET_CODES) if (codes.has(code)) return "reset";
  return undefined;
}

const RESET_CODES = ["ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CLOSED"];

function collect(error: unknown, into: Set<string>, depth: number): void {
  if (depth > 5 || typeof error !== "object" || error === null) return;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === "string") into.add(code);
  collect(cause, into, depth + 1);
  if (Array.isArray(errors)) for (const inner of errors) collect(inner, into, depth + 1);
}
