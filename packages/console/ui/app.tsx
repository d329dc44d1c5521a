// The console's shell: navigation and the hash routes.
import type { Api } from "./api.js";
import { href, useRoute } from "./hooks.js";
import { BrokerPage } from "./pages/broker.js";
import { GroupPage, GroupsPage } from "./pages/groups.js";
import { RecordsPage } from "./pages/records.js";
import { TopicPage, TopicsPage } from "./pages/topics.js";

function Page({ api, route }: { api: Api; route: string[] }) {
  const [section = "topics", name, partition] = route;
  if (section === "topics" && name === undefined) return <TopicsPage api={api} />;
  if (section === "topics" && partition === undefined) return <TopicPage api={api} topic={name!} key={name} />;
  if (section === "topics" && /^\d+$/.test(partition!))
    return <RecordsPage api={api} topic={name!} partition={Number(partition)} key={`${name}/${partition}`} />;
  if (section === "groups" && name === undefined) return <GroupsPage api={api} />;
  if (section === "groups") return <GroupPage api={api} group={name!} key={name} />;
  if (section === "broker") return <BrokerPage api={api} />;
  return (
    <p>
      No such page. Go to <a href={href("topics")}>topics</a>.
    </p>
  );
}

/** The whole console. */
export function App({ api }: { api: Api }) {
  const route = useRoute();
  const section = route[0] ?? "topics";
  const tab = (name: string, label: string) => (
    <a href={href(name)} class={section === name ? "active" : ""} data-nav={name}>
      {label}
    </a>
  );
  return (
    <>
      <header>
        <b class="brand">minikafka</b>
        <nav>
          {tab("topics", "Topics")}
          {tab("groups", "Groups")}
          {tab("broker", "Broker")}
        </nav>
        <a class="api" href="../openapi.json">
          API (OpenAPI)
        </a>
      </header>
      <main>
        <Page api={api} route={route} />
      </main>
    </>
  );
}
