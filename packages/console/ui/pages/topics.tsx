// The topics page (list, create) and one topic's page (partitions, add partitions, delete).
import type { TopicDescription } from "@minikafka/protocol";
import { useState } from "preact/hooks";
import type { Api } from "../api.js";
import { ActionForm, ErrorLine, Loading } from "../components.js";
import { formatBytes, formatDuration, formatTime } from "../format.js";
import { href, useLoad } from "../hooks.js";

const recordCount = (t: TopicDescription) => t.partitions.reduce((n, p) => n + p.highWatermark - p.logStartOffset, 0);
const sizeOf = (t: TopicDescription) => t.partitions.reduce((n, p) => n + p.sizeBytes, 0);

function retention(t: TopicDescription): string {
  const parts: string[] = [];
  if (t.config.retentionMs !== undefined) parts.push(formatDuration(t.config.retentionMs));
  if (t.config.retentionBytes !== undefined) parts.push(formatBytes(t.config.retentionBytes));
  return parts.length === 0 ? "broker default" : parts.join(", ");
}

/** All topics, and a form to create one. */
export function TopicsPage({ api }: { api: Api }) {
  const topics = useLoad(() => api.listTopics(), []);
  const [name, setName] = useState("");
  const [partitions, setPartitions] = useState("1");
  const [retentionHours, setRetentionHours] = useState("");
  const create = async () => {
    const retentionMs = retentionHours.trim() === "" ? undefined : Math.round(Number(retentionHours) * 3_600_000);
    const created = await api.createTopic(name.trim(), Number(partitions), retentionMs);
    setName("");
    await topics.reload();
    return `created ${created.name}`;
  };
  return (
    <section>
      <h1>Topics</h1>
      <ActionForm testid="create-topic" label="Create topic" onSubmit={create}>
        <label>
          Name <input name="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="orders" />
        </label>
        <label>
          Partitions{" "}
          <input name="partitions" type="number" min="1" required value={partitions} onInput={(e) => setPartitions(e.currentTarget.value)} />
        </label>
        <label>
          Retention (hours){" "}
          <input
            name="retention"
            type="number"
            min="0"
            step="any"
            value={retentionHours}
            onInput={(e) => setRetentionHours(e.currentTarget.value)}
            placeholder="default"
          />
        </label>
      </ActionForm>
      <ErrorLine error={topics.error} />
      {topics.data === undefined ? (
        topics.error === undefined ? (
          <Loading />
        ) : null
      ) : (
        <table data-testid="topics-table">
          <thead>
            <tr>
              <th>Topic</th>
              <th class="num">Partitions</th>
              <th class="num">Records</th>
              <th class="num">Size</th>
              <th>Retention</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {topics.data.topics.map((t) => (
              <tr key={t.name} data-topic={t.name}>
                <td>
                  <a href={href("topics", t.name)}>{t.name}</a>
                </td>
                <td class="num" data-col="partitions">
                  {t.partitions.length}
                </td>
                <td class="num" data-col="records">
                  {recordCount(t)}
                </td>
                <td class="num">{formatBytes(sizeOf(t))}</td>
                <td>{retention(t)}</td>
                <td>{formatTime(t.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {topics.data?.topics.length === 0 ? <p class="muted">No topics yet.</p> : null}
    </section>
  );
}

/** One topic: its partitions (offsets, sizes), growing it, deleting it. */
export function TopicPage({ api, topic }: { api: Api; topic: string }) {
  const described = useLoad(() => api.describeTopic(topic), [topic]);
  const [count, setCount] = useState("");
  const [confirming, setConfirming] = useState(false);
  const t = described.data;
  return (
    <section>
      <p class="crumbs">
        <a href={href("topics")}>Topics</a> /
      </p>
      <h1>{topic}</h1>
      <ErrorLine error={described.error} />
      {t === undefined ? (
        described.error === undefined ? (
          <Loading />
        ) : null
      ) : (
        <>
          <p class="muted">
            {t.partitions.length} partitions · {recordCount(t)} records · {formatBytes(sizeOf(t))} · retention {retention(t)}
            {t.config.segmentBytes === undefined ? "" : ` · segments of ${formatBytes(t.config.segmentBytes)}`} · created {formatTime(t.createdAt)}
          </p>
          <table data-testid="partitions-table">
            <thead>
              <tr>
                <th class="num">Partition</th>
                <th class="num">Log start offset</th>
                <th class="num">High watermark</th>
                <th class="num">Log end offset</th>
                <th class="num">Records</th>
                <th class="num">Size</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {t.partitions.map((p) => (
                <tr key={p.partition} data-partition={p.partition}>
                  <td class="num">{p.partition}</td>
                  <td class="num">{p.logStartOffset}</td>
                  <td class="num">{p.highWatermark}</td>
                  <td class="num">{p.logEndOffset}</td>
                  <td class="num">{p.highWatermark - p.logStartOffset}</td>
                  <td class="num">{formatBytes(p.sizeBytes)}</td>
                  <td>
                    <a href={href("topics", topic, p.partition)}>records</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <ActionForm
            testid="add-partitions"
            label="Add partitions"
            onSubmit={async () => {
              const grown = await api.addPartitions(topic, Number(count));
              await described.reload();
              return `${grown.partitions.length} partitions`;
            }}
          >
            <label>
              New total{" "}
              <input
                name="count"
                type="number"
                min={t.partitions.length + 1}
                required
                value={count}
                onInput={(e) => setCount(e.currentTarget.value)}
              />
            </label>
          </ActionForm>
          <ActionForm
            testid="delete-topic"
            label={confirming ? `Really delete ${topic}?` : "Delete topic"}
            onSubmit={async () => {
              if (!confirming) {
                setConfirming(true);
                return;
              }
              await api.deleteTopic(topic);
              location.hash = href("topics");
            }}
          >
            {confirming ? (
              <button type="button" onClick={() => setConfirming(false)}>
                Cancel
              </button>
            ) : null}
          </ActionForm>
        </>
      )}
    </section>
  );
}
