// A line-by-line port of the seed tutorial's Python Producer and Consumer (mini_kafka_v2/client.py), over
// any `fetch`-shaped function: `app.request` in route tests, the global fetch against a real broker.
type Fetch = (url: string, init?: RequestInit) => Response | Promise<Response>;

/** requests.post/get with `params`: query string from the params, raise_for_status when asked. */
async function call(fetch: Fetch, method: string, url: string, params: Record<string, string | number>): Promise<Response> {
  const query = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]));
  return fetch(`${url}?${query}`, { method });
}

async function raiseForStatus(response: Response): Promise<Response> {
  if (response.status >= 400) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
  return response;
}

export interface SeedMessage {
  message_offset: number;
  data: string;
  partition_id: number;
}

export class Producer {
  constructor(
    private readonly fetch: Fetch,
    private readonly brokerUrl: string,
  ) {}

  async send(topicName: string, message: string, key = ""): Promise<{ message_offset: number; partition_id: number }> {
    const response = await call(this.fetch, "POST", `${this.brokerUrl}/topics/${topicName}/messages`, { message, key });
    return (await response.json()) as { message_offset: number; partition_id: number };
  }
}

export class Consumer {
  readonly url: string;
  assigned: number[] = [];

  private constructor(
    private readonly fetch: Fetch,
    private readonly brokerUrl: string,
    readonly consumerId: string,
    readonly topic: string,
    readonly groupId: string,
  ) {
    this.url = `${brokerUrl}/topics/${topic}/messages`;
  }

  /** The Python constructor subscribes; a constructor cannot await here. */
  static async create(fetch: Fetch, brokerUrl: string, consumerId: string, topic: string, groupId: string): Promise<Consumer> {
    const consumer = new Consumer(fetch, brokerUrl, consumerId, topic, groupId);
    consumer.assigned = await consumer.subscribe(topic, groupId);
    return consumer;
  }

  async subscribe(topic: string, groupId: string): Promise<number[]> {
    const response = await raiseForStatus(
      await call(this.fetch, "POST", `${this.brokerUrl}/topics/${topic}/groups/${groupId}/subscribe`, { consumer_id: this.consumerId }),
    );
    return ((await response.json()) as { assigned_partitions: number[] }).assigned_partitions;
  }

  async poll(): Promise<SeedMessage[] | null> {
    const response = await call(this.fetch, "GET", this.url, { consumer_id: this.consumerId, group_id: this.groupId });
    if (response.status === 404) return null;
    await raiseForStatus(response);
    return (await response.json()) as SeedMessage[];
  }

  async acknowledge(messageOffset: number, partitionId: number): Promise<void> {
    await raiseForStatus(
      await call(this.fetch, "POST", `${this.brokerUrl}/topics/${this.topic}/messages/${messageOffset}/ack`, {
        consumer_id: this.consumerId,
        partition_id: partitionId,
      }),
    );
  }
}

/** The example's consumer loop: poll, acknowledge everything, stop at the first empty poll. */
export async function drain(consumer: Consumer): Promise<SeedMessage[]> {
  const received: SeedMessage[] = [];
  for (;;) {
    const msgs = await consumer.poll();
    if (!msgs || msgs.length === 0) break;
    for (const msg of msgs) {
      received.push(msg);
      await consumer.acknowledge(msg.message_offset, msg.partition_id);
    }
  }
  return received;
}
