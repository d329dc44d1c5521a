// The groups page and one group's page: state, members, assignments, committed offsets and lag, a lag
// chart, and resetting the offsets of an empty group.
import type { Assignment, GroupDescription } from "@minikafka/protocol";
import { useEffect, useRef, useState } from "preact/hooks";
import type { Api } from "../api.js";
import { ActionForm, ErrorLine, Loading } from "../components.js";
import { href, useLoad } from "../hooks.js";
import { LagChart, type LagPoint } from "../lag-chart.js";

const REFRESH_MS = 2000;
const HISTORY = 300;

const showAssignment = (a: Assignment) => (a.length === 0 ? "—" : a.map((tp) => `${tp.topic}[${tp.partitions.join(",")}]`).join(" "));
const totalLag = (g: GroupDescription) => g.offsets.reduce((n, o) => n + o.lag, 0);

/** All consumer groups. */
export function GroupsPage({ api }: { api: Api }) {
  const groups = useLoad(() => api.listGroups(), [], REFRESH_MS);
  return (
    <section>
      <h1>Consumer groups</h1>
      <ErrorLine error={groups.error} />
      {groups.data === undefined ? (
        groups.error === undefined ? (
          <Loading />
        ) : null
      ) : (
        <table data-testid="groups-table">
          <thead>
            <tr>
              <th>Group</th>
              <th>State</th>
              <th class="num">Members</th>
              <th class="num">Group epoch</th>
            </tr>
          </thead>
          <tbody>
            {groups.data.groups.map((g) => (
              <tr key={g.groupId} data-group={g.groupId}>
                <td>
                  <a href={href("groups", g.groupId)}>{g.groupId}</a>
                </td>
                <td data-col="state">{g.state}</td>
                <td class="num" data-col="members">
                  {g.memberCount}
                </td>
                <td class="num">{g.groupEpoch}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {groups.data?.groups.length === 0 ? <p class="muted">No consumer groups yet.</p> : null}
    </section>
  );
}

/** One group, refreshed every 2 s; the lag chart covers the time this page has been open. */
export function GroupPage({ api, group }: { api: Api; group: string }) {
  const history = useRef<LagPoint[]>([]);
  const described = useLoad(
    async () => {
      const g = await api.describeGroup(group);
      history.current = [...history.current, { time: Date.now(), lag: totalLag(g) }].slice(-HISTORY);
      return g;
    },
    [group],
    REFRESH_MS,
  );
  useEffect(() => {
    history.current = [];
  }, [group]);
  const g = described.data;
  return (
    <section>
      <p class="crumbs">
        <a href={href("groups")}>Consumer groups</a> /
      </p>
      <h1>{group}</h1>
      <ErrorLine error={described.error} />
      {g === undefined ? (
        described.error === undefined ? (
          <Loading />
        ) : null
      ) : (
        <>
          <p class="muted">
            state <b data-testid="group-state">{g.state}</b> · group epoch {g.groupEpoch} · assignment epoch {g.assignmentEpoch} · {g.members.length}{" "}
            members · total lag <b data-testid="total-lag">{totalLag(g)}</b>
          </p>
          <h2>Lag over time</h2>
          <LagChart points={history.current} />
          <h2>Members</h2>
          {g.members.length === 0 ? (
            <p class="muted">No members.</p>
          ) : (
            <table data-testid="members-table">
              <thead>
                <tr>
                  <th>Member</th>
                  <th>Instance</th>
                  <th>State</th>
                  <th class="num">Epoch</th>
                  <th>Assigned</th>
                  <th>Revoking</th>
                  <th>Pending</th>
                  <th>Last heartbeat</th>
                </tr>
              </thead>
              <tbody>
                {g.members.map((m) => (
                  <tr key={m.memberId} data-member={m.memberId}>
                    <td class="mono">{m.memberId}</td>
                    <td>{m.instanceId ?? "—"}</td>
                    <td>{m.state}</td>
                    <td class="num">{m.memberEpoch}</td>
                    <td data-col="assignment">{showAssignment(m.assignment)}</td>
                    <td>{showAssignment(m.revokingPartitions)}</td>
                    <td>{showAssignment(m.pendingPartitions)}</td>
                    <td>{new Date(m.lastHeartbeatMs).toLocaleTimeString()}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h2>Committed offsets</h2>
          <table data-testid="offsets-table">
            <thead>
              <tr>
                <th>Topic</th>
                <th class="num">Partition</th>
                <th class="num">Committed</th>
                <th class="num">Log start</th>
                <th class="num">High watermark</th>
                <th class="num">Lag</th>
              </tr>
            </thead>
            <tbody>
              {g.offsets.map((o) => (
                <tr key={`${o.topic}:${o.partition}`} data-topic={o.topic} data-partition={o.partition}>
                  <td>
                    <a href={href("topics", o.topic, o.partition)}>{o.topic}</a>
                  </td>
                  <td class="num">{o.partition}</td>
                  <td class="num" data-col="committed">
                    {o.committedOffset ?? "—"}
                  </td>
                  <td class="num">{o.logStartOffset}</td>
                  <td class="num">{o.highWatermark}</td>
                  <td class="num" data-col="lag">
                    {o.lag}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <ResetOffsets api={api} group={g} onDone={described.reload} />
        </>
      )}
    </section>
  );
}

function ResetOffsets({ api, group, onDone }: { api: Api; group: GroupDescription; onDone: () => Promise<void> }) {
  const topics = [...new Set(group.offsets.map((o) => o.topic))];
  const [topic, setTopic] = useState(topics[0] ?? "");
  const [to, setTo] = useState<"earliest" | "latest" | "offset">("earliest");
  const [offset, setOffset] = useState("");
  const [partition, setPartition] = useState("");
  const empty = group.state === "empty";
  const reset = async () => {
    const described = await api.describeTopic(topic);
    const chosen = described.partitions.filter((p) => partition === "" || p.partition === Number(partition));
    if (chosen.length === 0) throw new Error(`topic ${topic} has no partition ${partition}`);
    const targets = chosen.map((p) => ({
      partition: p.partition,
      offset: to === "earliest" ? p.logStartOffset : to === "latest" ? p.highWatermark : Number(offset),
    }));
    for (const [i, t] of targets.entries()) {
      const p = chosen[i]!;
      if (t.offset < p.logStartOffset || t.offset > p.highWatermark) {
        throw new Error(`offset ${t.offset} is outside partition ${p.partition}'s range [${p.logStartOffset}, ${p.highWatermark}]`);
      }
    }
    await api.setOffsets(group.groupId, topic, targets);
    await onDone();
    return `reset ${targets.length} partition${targets.length === 1 ? "" : "s"} of ${topic}`;
  };
  return (
    <>
      <h2>Reset offsets</h2>
      {empty ? null : <p class="muted">Only a group without members can have its offsets reset: stop its consumers first.</p>}
      <ActionForm testid="reset-offsets" label="Reset offsets" onSubmit={reset} disabled={!empty}>
        <label>
          Topic <input name="topic" required list="reset-topics" value={topic} onInput={(e) => setTopic(e.currentTarget.value)} />
          <datalist id="reset-topics">
            {topics.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
        </label>
        <label>
          Partition{" "}
          <input name="partition" type="number" min="0" placeholder="all" value={partition} onInput={(e) => setPartition(e.currentTarget.value)} />
        </label>
        <label>
          To{" "}
          <select name="to" value={to} onChange={(e) => setTo(e.currentTarget.value as typeof to)}>
            <option value="earliest">earliest</option>
            <option value="latest">latest</option>
            <option value="offset">offset…</option>
          </select>
        </label>
        {to === "offset" ? (
          <label>
            Offset <input name="offset" type="number" min="0" required value={offset} onInput={(e) => setOffset(e.currentTarget.value)} />
          </label>
        ) : null}
      </ActionForm>
    </>
  );
}
