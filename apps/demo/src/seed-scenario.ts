// The tutorial's example (mini-kafka-part2, "Running an Example"), with its Producer and Consumer
// ported line for line to fetch: the same routes and query parameters the Python client uses.

/** The tutorial's Producer: `send(topic, message, key = "")`. */
class SeedProducer {
  constructor(private readonly brokerUrl: string) {}

  async send(topic: string, message: string, key = ""): Promise<{ message_offset: number; partition_id: number }> {
    const url = `${this.brokerUrl}/topics/${topic}/messages?${new URLSearchParams({ message, key })}`;
    return expectJson(await fetch(url, { method: "POST" }));
  }
}

/** The tutorial's Consumer: subscribes on construction, `poll()`, `acknowledge()`. */
class SeedConsumer {
  private constructor(
    private readonly brokerUrl: string,
    private readonly consumerId: string,
    private readonly topic: string,
    private readonly groupId: string,
  ) {}

  static async create(brokerUrl: string, consumerId: string, topic: string, groupId: string): Promise<SeedConsumer> {
    const consumer = new SeedConsumer(brokerUrl, consumerId, topic, groupId);
    const url = `${brokerUrl}/topics/${topic}/groups/${groupId}/subscribe?${new URLSearchParams({ consumer_id: consumerId })}`;
    await expectJson(await fetch(url, { method: "POST" }));
    return consumer;
  }

  async poll(): Promise<Array<{ message_offset: number; data: string; partition_id: number }> | null> {
    const url = `${this.brokerUrl}/topics/${this.topic}/messages?${new URLSearchParams({ consumer_id: this.consumerId, group_id: this.groupId })}`;
    const response = await fetch(url);
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    return expectJson(response);
  }

  async acknowledge(messageOffset: number, partitionId: number): Promise<void> {
    const query = new URLSearchParams({ consumer_id: this.consumerId, partition_id: String(partitionId) });
    await expectJson(await fetch(`${this.brokerUrl}/topics/${this.topic}/messages/${messageOffset}/ack?${query}`, { method: "POST" }));
  }
}

async function expectJson<T>(response: Response): Promise<T> {
  const body = await response.text();
  if (!response.ok) throw new Error(`${response.status} ${response.statusText}: ${body}`);
  return JSON.parse(body) as T;
}

/** What each consumer received, as `partition:offset:data`, in order. */
export type ScenarioResult = string[][];

/**
 * Replays the tutorial's example against `brokerUrl`, printing what the tutorial prints through `print`:
 * a 3-partition topic, 60 keyless (round-robin) messages, then three consumers of one group, each
 * polling and acknowledging until it gets nothing.
 */
export async function runSeedScenario(brokerUrl: string, print: (line: string) => void = console.log): Promise<ScenarioResult> {
  const TOPIC_NAME = "my_partitioned_topic";
  const NUM_PARTITIONS = 3;
  const GROUP_ID = "my_consumer_group";

  print(`Creating topic '${TOPIC_NAME}' with ${NUM_PARTITIONS} partitions...`);
  await expectJson(await fetch(`${brokerUrl}/topics/${TOPIC_NAME}/create?num_partitions=${NUM_PARTITIONS}`, { method: "POST" }));
  print(`Topic ${TOPIC_NAME} created.`);

  const producer = new SeedProducer(brokerUrl);
  print(`Sending message to topic '${TOPIC_NAME}'...`);
  for (let i = 0; i < 60; i++) {
    const { message_offset, partition_id } = await producer.send(TOPIC_NAME, `Hello, Mini Kafka! -- ${i}`);
    print(`Message sent with offset: ${message_offset}, to partition ${partition_id}`);
  }

  print("\nCreating consumers and polling for messages...");
  const received: ScenarioResult = [];
  for (const n of [1, 2, 3]) {
    const consumer = await SeedConsumer.create(brokerUrl, `consumer-${n}`, TOPIC_NAME, GROUP_ID);
    print(`Consumer ${n} (group: ${GROUP_ID}, id: consumer-${n}) polling partition ${n - 1}...`);
    const mine: string[] = [];
    for (;;) {
      const msgs = await consumer.poll();
      if (!msgs || msgs.length === 0) break;
      for (const msg of msgs) {
        print(`  Consumer ${n} received from partition ${msg.partition_id}: ID=${msg.message_offset}, Data='${msg.data}'`);
        await consumer.acknowledge(msg.message_offset, msg.partition_id);
        mine.push(`${msg.partition_id}:${msg.message_offset}:${msg.data}`);
        print(`Acknowledged message ID: ${msg.message_offset}`);
      }
    }
    print(`Consumer ${n} finished. Received ${mine.length} messages.`);
    received.push(mine);
  }
  print("\nExample finished.");
  return received;
}
