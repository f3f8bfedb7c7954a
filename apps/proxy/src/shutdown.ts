/** What a coordinator stops at shutdown, in the order {@link stopCoordinator} stops it. */
export interface CoordinatorParts {
  /** Stops taking requests and waits for those in flight to be answered (HTTP and RESP servers). */
  drain(): Promise<void>;
  /** Stops the periodic work (probes, hint replay, refills, the floor) and waits for what runs. */
  stopCoordinator(): Promise<void>;
  /** Resolves once every replica write sent so far settled and the hints of those that failed were recorded. */
  replicasSettled(): Promise<void>;
  /** Closes the clients of the data nodes. */
  closeNodeClients(): void;
  /** Closes the hint log (after the writes of hints in flight). */
  closeHints(): Promise<void>;
}

/**
 * Stops a coordinator without losing a hint of a write in flight: requests are drained first, then the periodic work,
 * then the replica writes still in flight settle (answered, or timed out and hinted), then the node clients close,
 * and the hint log closes last, once the hints recorded by all of that are on disk.
 */
export async function stopCoordinator(parts: CoordinatorParts): Promise<void> {
  await parts.drain();
  await parts.stopCoordinator();
  await parts.replicasSettled();
  parts.closeNodeClients();
  await parts.closeHints();
}
