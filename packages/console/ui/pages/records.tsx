// A partition's records: browse from an offset or a time, live tail (Server-Sent Events), text / JSON / hex views.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, type Api, type WireRecord } from "../api.js";
import { ErrorLine } from "../components.js";
import { formatTime, fromBase64, showBytes, type View } from "../format.js";
import { href } from "../hooks.js";

const PAGE = 50;
const TAIL_KEEP = 500;

/**
 * The first offset in [lo, hi) whose record's timestamp is at least `time` (`hi` if none), by binary
 * search over single-record fetches: about log2(hi − lo) requests. Exact when timestamps do not decrease
 * along the log (the broker's own timestamps never do; producers may set their own).
 */
export async function offsetForTime(api: Api, topic: string, partition: number, lo: number, hi: number, time: number): Promise<number> {
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const { records } = await api.fetchRecords(topic, partition, mid, { maxRecords: 1 });
    const first = records.find((r) => r.offset >= mid);
    if (first === undefined || first.timestamp >= time) hi = mid;
    else lo = first.offset + 1;
  }
  return lo;
}

async function partitionOf(api: Api, topic: string, partition: number) {
  const p = (await api.describeTopic(topic)).partitions.find((x) => x.partition === partition);
  if (p === undefined) throw new ApiError("UNKNOWN_TOPIC_OR_PARTITION", `topic ${topic} has no partition ${partition}`, 404);
  return p;
}

function Bytes({ value, view }: { value: string | null; view: View }) {
  return <pre class={value === null ? "null" : view}>{showBytes(fromBase64(value), view)}</pre>;
}

/** One partition's records. */
export function RecordsPage({ api, topic, partition }: { api: Api; topic: string; partition: number }) {
  const [view, setView] = useState<View>("text");
  const [records, setRecords] = useState<WireRecord[]>([]);
  const [range, setRange] = useState<{ logStartOffset: number; highWatermark: number } | undefined>(undefined);
  const [nextOffset, setNextOffset] = useState<number | undefined>(undefined);
  const [fromOffset, setFromOffset] = useState("");
  const [fromTime, setFromTime] = useState("");
  const [tailFrom, setTailFrom] = useState<number | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const tail = useRef<AbortController | undefined>(undefined);

  const browse = async (offset: number) => {
    setError(undefined);
    try {
      const result = await api.fetchRecords(topic, partition, offset, { maxRecords: PAGE });
      setRecords(result.records);
      setNextOffset(result.nextOffset);
      setRange({ logStartOffset: result.logStartOffset, highWatermark: result.highWatermark });
    } catch (e) {
      setError(e as Error);
    }
  };

  const stopTail = () => {
    tail.current?.abort();
    tail.current = undefined;
    setTailFrom(undefined);
  };

  const startTail = async () => {
    stopTail();
    setError(undefined);
    const controller = new AbortController();
    tail.current = controller;
    try {
      // From the current end: everything produced from now on.
      const p = await partitionOf(api, topic, partition);
      const offset = p.highWatermark;
      setRecords([]);
      setRange({ logStartOffset: p.logStartOffset, highWatermark: p.highWatermark });
      setTailFrom(offset);
      // Server-Sent Events from the end on: records arrive as they are stored, no poll in between.
      for await (const event of api.liveRecords(topic, partition, offset, controller.signal)) {
        if (controller.signal.aborted) break;
        if ("records" in event) setRecords((old) => [...old, ...event.records].slice(-TAIL_KEEP));
        else {
          setTailFrom(event.nextOffset);
          if (event.upToDate) setRange((old) => (old === undefined ? old : { ...old, highWatermark: event.nextOffset }));
        }
      }
    } catch (e) {
      if (!controller.signal.aborted) {
        setError(e as Error);
        stopTail();
      }
    }
  };

  useEffect(() => {
    stopTail();
    setRecords([]);
    // Start on the newest page.
    void (async () => {
      try {
        const p = await partitionOf(api, topic, partition);
        await browse(Math.max(p.logStartOffset, p.highWatermark - PAGE));
      } catch (e) {
        setError(e as Error);
      }
    })();
    return stopTail;
  }, [topic, partition]);

  const tailing = tailFrom !== undefined;
  return (
    <section>
      <p class="crumbs">
        <a href={href("topics")}>Topics</a> / <a href={href("topics", topic)}>{topic}</a> /
      </p>
      <h1>
        {topic} · partition {partition}
      </h1>
      {range === undefined ? null : (
        <p class="muted" data-testid="range">
          offsets {range.logStartOffset} to {range.highWatermark - 1} ({range.highWatermark - range.logStartOffset} records)
        </p>
      )}
      <div class="toolbar">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            stopTail();
            void browse(Number(fromOffset));
          }}
        >
          <label>
            From offset{" "}
            <input name="offset" type="number" min="0" required value={fromOffset} onInput={(e) => setFromOffset(e.currentTarget.value)} />
          </label>
          <button type="submit">Go</button>
        </form>
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            stopTail();
            setError(undefined);
            try {
              const p = await partitionOf(api, topic, partition);
              const offset = await offsetForTime(api, topic, partition, p.logStartOffset, p.highWatermark, new Date(fromTime).getTime());
              setFromOffset(String(offset));
              await browse(offset);
            } catch (err) {
              setError(err as Error);
            }
          }}
        >
          <label>
            From time{" "}
            <input name="time" type="datetime-local" step="1" required value={fromTime} onInput={(e) => setFromTime(e.currentTarget.value)} />
          </label>
          <button type="submit">Go</button>
        </form>
        <button
          type="button"
          data-testid="tail"
          data-tailing={tailing ? "on" : "off"}
          data-tail-from={tailFrom}
          onClick={() => (tailing ? stopTail() : void startTail())}
        >
          {tailing ? "Stop live tail" : "Live tail"}
        </button>
        <label>
          View{" "}
          <select name="view" value={view} onChange={(e) => setView(e.currentTarget.value as View)}>
            <option value="text">text</option>
            <option value="json">JSON</option>
            <option value="hex">hex</option>
          </select>
        </label>
      </div>
      <ErrorLine error={error} />
      <table data-testid="records-table" class="records">
        <thead>
          <tr>
            <th class="num">Offset</th>
            <th>Timestamp</th>
            <th>Key</th>
            <th>Value</th>
            <th>Headers</th>
          </tr>
        </thead>
        <tbody>
          {records.map((r) => (
            <tr key={r.offset} data-offset={r.offset}>
              <td class="num">{r.offset}</td>
              <td class="nowrap">{formatTime(r.timestamp)}</td>
              <td data-col="key">
                <Bytes value={r.key} view={view} />
              </td>
              <td data-col="value">
                <Bytes value={r.value} view={view} />
              </td>
              <td data-col="headers">
                {Object.entries(r.headers).map(([name, value]) => (
                  <div key={name}>
                    <b>{name}</b>: <Bytes value={value} view={view} />
                  </div>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {records.length === 0 ? <p class="muted">{tailing ? `Waiting for records from offset ${tailFrom}…` : "No records here."}</p> : null}
      {!tailing && nextOffset !== undefined && range !== undefined && nextOffset < range.highWatermark ? (
        <button type="button" data-testid="next-page" onClick={() => void browse(nextOffset)}>
          Next {PAGE}
        </button>
      ) : null}
    </section>
  );
}
