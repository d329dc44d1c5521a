import type { KafkaMessage } from "@minikafka/client";
import type { ByteSink } from "./byte-sink.js";
import { usage } from "./cli-error.js";

/** Writes one message into a sink. */
export type MessageFormatter = (sink: ByteSink, topic: Uint8Array, partition: number, message: KafkaMessage<Uint8Array>) => void;

type Token = "s" | "S" | "R" | "k" | "K" | "T" | "h" | "t" | "p" | "o";
type Piece = Uint8Array | Token;

const TOKENS = new Set<string>(["s", "S", "R", "k", "K", "T", "h", "t", "p", "o"]);
const ESCAPES: Record<string, number> = { n: 0x0a, r: 0x0d, t: 0x09, "\\": 0x5c };
const EQUALS = 0x3d;
const COMMA = 0x2c;

/** The format `consume` uses without `--format`: the value, then a newline. */
export const DEFAULT_FORMAT = "%s\\n";

/**
 * Compiles a kcat format string (`-f`): `%s` value, `%S` value length (-1 for null), `%R` value length
 * as a big-endian 32-bit integer, `%k` key, `%K` key length, `%T` timestamp (ms), `%h` headers as
 * `name=value` separated by commas, `%t` topic, `%p` partition, `%o` offset, `%%` a percent sign;
 * escapes `\n`, `\r`, `\t`, `\\`, `\xHH`. A null key or value prints as nothing. Unlike kcat, a newline
 * is added after each message unless the format already ends with one, so `'%k %s'` prints a line per
 * message.
 * @throws CliError `USAGE` for an unknown `%` token or escape.
 */
export function compileFormat(format: string): MessageFormatter {
  const pieces: Piece[] = [];
  let literal: number[] = [];
  const flush = () => {
    if (literal.length > 0) pieces.push(Uint8Array.from(literal));
    literal = [];
  };
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c === "%") {
      const next = format[++i];
      if (next === "%") literal.push(0x25);
      else if (next !== undefined && TOKENS.has(next)) {
        flush();
        pieces.push(next as Token);
      } else {
        throw usage(
          `--format: unknown token ${next === undefined ? "% at the end" : `%${next}`} (known: %s %S %R %k %K %T %h %t %p %o %%)`,
          "consume",
        );
      }
    } else if (c === "\\") {
      const next = format[++i];
      if (next !== undefined && next in ESCAPES) literal.push(ESCAPES[next]!);
      else if (next === "x" && /^[0-9a-fA-F]{2}$/.test(format.slice(i + 1, i + 3))) {
        literal.push(parseInt(format.slice(i + 1, i + 3), 16));
        i += 2;
      } else {
        throw usage(`--format: unknown escape \\${next ?? ""} (known: \\n \\r \\t \\\\ \\xHH)`, "consume");
      }
    } else {
      literal.push(...Buffer.from(c, "utf8"));
    }
  }
  // The trailing literal is still in `literal` (pieces end with a token otherwise).
  if (literal.at(-1) !== 0x0a) literal.push(0x0a);
  flush();
  return (sink, topic, partition, m) => {
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (typeof piece !== "string") {
        sink.bytes(piece);
        continue;
      }
      switch (piece) {
        case "s":
          if (m.value !== null) sink.bytes(m.value);
          break;
        case "S":
          sink.number(m.value === null ? -1 : m.value.length);
          break;
        case "R":
          sink.int32BE(m.value === null ? -1 : m.value.length);
          break;
        case "k":
          if (m.key !== null) sink.bytes(m.key);
          break;
        case "K":
          sink.number(m.key === null ? -1 : m.key.length);
          break;
        case "T":
          sink.number(m.timestamp);
          break;
        case "h": {
          let first = true;
          for (const name in m.headers) {
            if (!first) sink.byte(COMMA);
            first = false;
            sink.text(name);
            sink.byte(EQUALS);
            const value = m.headers[name]!;
            if (value !== null) sink.bytes(value);
          }
          break;
        }
        case "t":
          sink.bytes(topic);
          break;
        case "p":
          sink.number(partition);
          break;
        case "o":
          sink.number(m.offset);
          break;
      }
    }
  };
}
