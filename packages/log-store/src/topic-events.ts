import { LogStoreError } from "./errors.js";

/**
 * A change to a store's topics, told to {@link LogStore.onTopicChange} listeners once it has taken effect
 * (the store already answers for the new state), whoever made it.
 *
 * - `"created"`: the topic exists with `partitions` partitions.
 * - `"partitionsAdded"`: the topic grew to `partitions` partitions.
 * - `"deleted"`: the topic is gone (`partitions` is 0). Told as soon as the store stops serving it, even
 *   if removing its files then fails.
 */
export interface TopicChangeEvent {
  readonly type: "created" | "partitionsAdded" | "deleted";
  /** The topic's name. */
  readonly topic: string;
  /** Its partition count after the change (0 once deleted). */
  readonly partitions: number;
}

/** Receives {@link TopicChangeEvent}s. Called synchronously; must not throw (an exception is ignored). */
export type TopicChangeListener = (event: TopicChangeEvent) => void;

/** The listeners of one store, in subscription order. Internal. */
export class TopicEvents {
  #listeners: TopicChangeListener[] = [];

  /** Adds `listener`; the returned function removes it (idempotent). */
  subscribe(listener: TopicChangeListener): () => void {
    if (typeof listener !== "function") throw new LogStoreError("INVALID_REQUEST", "listener must be a function");
    // Copy on write: a listener that unsubscribes (itself or another) while being told does not skip anyone.
    this.#listeners = [...this.#listeners, listener];
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  /** Tells every listener; one that throws does not keep the others from hearing of the change. */
  emit(event: TopicChangeEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // The change is already made (and durable): failing the call that made it would be a lie.
      }
    }
  }
}
