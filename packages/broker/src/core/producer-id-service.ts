import type { InitProducerIdResult } from "@minikafka/log-store";
import type { BrokerStore } from "./storage.js";

/** What {@link ProducerIdService} needs. */
export interface ProducerIdServiceDeps {
  readonly store: Pick<BrokerStore, "initProducerId">;
}

/**
 * Idempotent-producer ids (Kafka's InitProducerId without transactional ids), transport-neutral.
 *
 * Only fresh ids are handed out, always with epoch 0. There is no "init again with my id to bump the epoch"
 * as Kafka offers for a `transactional.id`: the broker keeps no registry of ids and their epochs (the
 * truth is per partition, in the batch headers), so it could not fence an old instance eagerly anyway. A
 * producer raises its own epoch when it wants a fresh sequence space (sequences restart at 0), which
 * fences its older epoch in each partition the new one writes to.
 */
export class ProducerIdService {
  readonly #deps: ProducerIdServiceDeps;

  constructor(deps: ProducerIdServiceDeps) {
    this.#deps = deps;
  }

  /**
   * A producer id never handed out before by this store, with epoch 0 (made durable before it is returned).
   * @throws LogStoreError `KAFKA_STORAGE_ERROR`, `DISK_FULL`, `STORE_CLOSED`
   */
  initProducerId(): Promise<InitProducerIdResult> {
    return this.#deps.store.initProducerId();
  }
}
