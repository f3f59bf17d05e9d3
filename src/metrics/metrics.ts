import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Connector session states as the architecture names them. */
export const ConnectorState = Object.freeze({
  disconnected: 'DISCONNECTED',
  connecting: 'CONNECTING',
  bound: 'BOUND',
  unbound: 'UNBOUND',
} as const);
export type ConnectorStateName = (typeof ConnectorState)[keyof typeof ConnectorState];
const CONNECTOR_STATES = Object.values(ConnectorState);

/**
 * The metrics of one process, on a prom-client registry of their own. The process entry point
 * (src/app) makes one and hands it to the components that record; nothing else about Prometheus
 * leaks into them. Tests make one per component under test, so counts never mix. Names, labels
 * and help texts are part of the contract with dashboards and the README's metrics list.
 */
export class Metrics {
  readonly registry = new Registry();
  #defaultsStarted = false;

  /** Process metrics (CPU, memory, event loop lag); the process edge calls this once. */
  collectProcessMetrics(): void {
    if (this.#defaultsStarted) return;
    this.#defaultsStarted = true;
    // The event-loop delay histogram samples every 10 ms by default: ~0.6% of a core per process on
    // this kind of VM, for a figure that is read every 15 s or so. 100 ms is plenty.
    // prefix 'smsc_': prom-client's names already start with process_ / nodejs_ (smsc_process_cpu_seconds_total,
    // smsc_nodejs_eventloop_lag_seconds); a longer prefix doubled them (smsc_process_process_…).
    collectDefaultMetrics({ register: this.registry, prefix: 'smsc_', eventLoopMonitoringPrecision: 100 });
  }

  /** Outcomes of an ESME's submit_sm / data_sm: `ok`, or the error status name (e.g. `ESME_RTHROTTLED`). */
  readonly submitsTotal = new Counter({
    name: 'smsc_submits_total',
    help: 'Messages submitted by ESMEs, by account and outcome status',
    labelNames: ['account', 'status'] as const,
    registers: [this.registry],
  });

  /** `outcome`: delivered | submitted | retry | undeliverable | expired | error. */
  readonly deliveriesTotal = new Counter({
    name: 'smsc_deliveries_total',
    help: 'Delivery attempts by connector and outcome',
    labelNames: ['connector', 'outcome'] as const,
    registers: [this.registry],
  });

  /** `direction`: `in` (from a connector) or `out` (to an ESME); `stat`: DELIVRD, UNDELIV, EXPIRED, … */
  readonly receiptsTotal = new Counter({
    name: 'smsc_receipts_total',
    help: 'Delivery receipts received from connectors or sent to ESMEs, by direction and stat',
    labelNames: ['direction', 'stat'] as const,
    registers: [this.registry],
  });

  /** Uncorrelated receipts: a downstream id we do not know (expired correlation or foreign). */
  readonly receiptsUnmatchedTotal = new Counter({
    name: 'smsc_receipts_unmatched_total',
    help: 'Receipts from connectors that matched no stored message',
    labelNames: ['connector'] as const,
    registers: [this.registry],
  });

  readonly destinationLockFailuresTotal = new Counter({
    name: 'smsc_destination_lock_failures_total',
    help: 'Claimed messages released because another worker held their destination',
    registers: [this.registry],
  });

  readonly destinationLockStealsTotal = new Counter({
    name: 'smsc_destination_lock_steals_total',
    help: 'Destination locks taken over after their lease ran out',
    registers: [this.registry],
  });

  /** A fenced write matched nothing: another worker (or cleanup) took the lease. */
  readonly leasesLostTotal = new Counter({
    name: 'smsc_leases_lost_total',
    help: 'Fenced writes that found the lock token changed (lease lost)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly messageClaimsTotal = new Counter({
    name: 'smsc_message_claims_total',
    help: 'Messages CAS-locked by deliverers',
    registers: [this.registry],
  });

  /*
   * Queue gauges. One process of the deployment samples them (see src/observability/queue-depth-sampler.ts: whoever
   * holds the `queue-sampler` lease), so they are created unregistered and appear in /metrics only
   * while this process is the sampler: the other processes expose no stale zeros, and sum() or
   * max() over all processes is the deployment's figure.
   */

  /** Every state; final states are counted less often (they are the bulk of the collection). */
  readonly queueDepth = new Gauge({
    name: 'smsc_queue_depth',
    help: 'Messages in the store by state (sampled)',
    labelNames: ['state'] as const,
    registers: [],
  });

  readonly queueDueMessages = new Gauge({
    name: 'smsc_queue_due_messages',
    help: 'Queued messages whose nextAttemptAt has passed (sampled)',
    registers: [],
  });

  readonly queueOldestDueSeconds = new Gauge({
    name: 'smsc_queue_oldest_due_seconds',
    help: 'How long the oldest due queued message has been waiting past its nextAttemptAt (sampled)',
    registers: [],
  });

  /**
   * `kind`: `connector` (MT; `target` is the connector its route or its own target names, `none`
   * without a route) or `esme` (receipts and MO; `target` is the system_id, `none` while an MO has
   * no ESME route). Summed over targets, the queued messages.
   */
  readonly queueTargetMessages = new Gauge({
    name: 'smsc_queue_target_messages',
    help: 'Queued messages by target connector or ESME (sampled)',
    labelNames: ['kind', 'target'] as const,
    registers: [],
  });

  readonly queueTargetDueMessages = new Gauge({
    name: 'smsc_queue_target_due_messages',
    help: 'Queued messages past their nextAttemptAt, by target connector or ESME (sampled)',
    labelNames: ['kind', 'target'] as const,
    registers: [],
  });

  readonly queueTargetOldestDueSeconds = new Gauge({
    name: 'smsc_queue_target_oldest_due_seconds',
    help: 'How long the oldest due message of a target has been waiting past its nextAttemptAt (sampled)',
    labelNames: ['kind', 'target'] as const,
    registers: [],
  });

  /** For alerts on the sampler itself: `time() - max(smsc_queue_last_sample_timestamp_seconds) > 120`. */
  readonly queueLastSampleTimestamp = new Gauge({
    name: 'smsc_queue_last_sample_timestamp_seconds',
    help: 'Unix time of the last queue sample this process took (present only on the sampling process)',
    registers: [],
  });

  /** `kind`: `insert` (inserter group commit) or `delivery` (messages per destination round). */
  readonly batchSize = new Histogram({
    name: 'smsc_batch_size',
    help: 'Messages per insert batch and per delivery batch',
    labelNames: ['kind'] as const,
    buckets: [1, 2, 3, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [this.registry],
  });

  /** From receiving submit_sm to the store acknowledging it (the time an ESME waits for its resp). */
  readonly storeLatencySeconds = new Histogram({
    name: 'smsc_store_latency_seconds',
    help: 'Time from submit_sm received to the durable store acknowledging it',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly submitToDeliverSeconds = new Histogram({
    name: 'smsc_submit_to_deliver_seconds',
    help: 'Time from arrival to acceptance by the downstream (or a bound ESME)',
    labelNames: ['connector'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers: [this.registry],
  });

  /** `side`: `esme` (inbound, to an inserter) or `connector` (outbound); `mode`: transmitter | receiver | transceiver; `result`: ok | error status. */
  readonly bindsTotal = new Counter({
    name: 'smsc_binds_total',
    help: 'Bind attempts by side, mode and result',
    labelNames: ['side', 'mode', 'result'] as const,
    registers: [this.registry],
  });

  readonly boundSessions = new Gauge({
    name: 'smsc_bound_sessions',
    help: 'SMPP sessions currently bound, by side and mode',
    labelNames: ['side', 'mode'] as const,
    registers: [this.registry],
  });

  /** 1 for the state a connector is in, 0 for the others (the usual enum-as-gauge pattern). */
  readonly connectorStateGauge = new Gauge({
    name: 'smsc_connector_state',
    help: 'Outbound connector session state (1 = current state)',
    labelNames: ['connector', 'state'] as const,
    registers: [this.registry],
  });

  readonly expiredTotal = new Counter({
    name: 'smsc_expired_total',
    help: 'Messages expired by cleanup past their validity',
    registers: [this.registry],
  });

  readonly purgedTotal = new Counter({
    name: 'smsc_purged_total',
    help: 'Final messages purged after retention',
    registers: [this.registry],
  });

  readonly locksReleasedTotal = new Counter({
    name: 'smsc_expired_locks_released_total',
    help: 'Message and destination locks released by cleanup after their lease ran out',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  // ---- Intake policy, HLR lookups, CDR journal (issue 16) ----

  readonly policyRefusalsTotal = new Counter({
    name: 'smsc_policy_refusals_total',
    help: 'Messages refused at intake by the contact policy or the HLR policy, by account, reason and intake path',
    labelNames: ['account', 'reason', 'intake'] as const,
    registers: [this.registry],
  });

  readonly routeDecisionsTotal = new Counter({
    name: 'smsc_route_decisions_total',
    help: 'Routing decisions acted on, by stage (intake: drop and auto-reply routes; delivery: the connector choice) and action (deliver | drop | auto-reply | none)',
    labelNames: ['stage', 'action'] as const,
    registers: [this.registry],
  });

  readonly policyDeliveredTotal = new Counter({
    name: 'smsc_policy_accepted_as_delivered_total',
    help: 'Messages accepted and finalised as DELIVRD without delivery (HLR reverse mode)',
    labelNames: ['account'] as const,
    registers: [this.registry],
  });

  readonly optOutsTotal = new Counter({
    name: 'smsc_optouts_total',
    help: 'Subscribers who opted out of an account by MO (STOP to its short code)',
    labelNames: ['account'] as const,
    registers: [this.registry],
  });

  readonly cdrRecordsTotal = new Counter({
    name: 'smsc_cdr_records_total',
    help: 'CDR records written to the journal, by kind (final | attempt)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly cdrUploadsTotal = new Counter({
    name: 'smsc_cdr_uploads_total',
    help: 'CDR files uploaded to object storage, by result (ok | error)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  // Names as the HLR gateway this feature comes from published them (dashboards reuse them).

  /** Requests to the HLR provider by result: reachable | unreachable | invalid | timeout | error. Cache hits are not requests. */
  readonly hlrRequestsTotal = new Counter({
    name: 'hlr_requests_total',
    help: 'HLR provider requests by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly hlrCacheHitsTotal = new Counter({
    name: 'hlr_cache_hits_total',
    help: 'HLR lookups answered from the cache',
    registers: [this.registry],
  });

  readonly hlrLatencySeconds = new Histogram({
    name: 'hlr_latency_seconds',
    help: 'HLR provider response time (timeouts observed at the timeout)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers: [this.registry],
  });

  // ---------------------------------------------------------------------------------------------
  // `smsc up` supervising its children (issue 18). Only the `up` process updates these; its
  // `/metrics` (`smsc up --metrics-port N`) serves them beside every child's metrics.

  /** Children of `smsc up` restarted after they exited unexpectedly, by child and exit code (or signal). */
  readonly upChildRestartsTotal = new Counter({
    name: 'smsc_up_child_restarts_total',
    help: 'Children of smsc up restarted after an unexpected exit, by child and exit code or signal',
    labelNames: ['child', 'exit'] as const,
    registers: [this.registry],
  });

  /** 1 while a child of `smsc up` runs and has said it is ready, else 0. */
  readonly upChildUp = new Gauge({
    name: 'smsc_up_child_up',
    help: 'Whether a child of smsc up is running and ready (1) or not (0)',
    labelNames: ['child'] as const,
    registers: [this.registry],
  });

  readonly #queueGauges = Object.freeze([
    { name: 'smsc_queue_depth', gauge: this.queueDepth },
    { name: 'smsc_queue_due_messages', gauge: this.queueDueMessages },
    { name: 'smsc_queue_oldest_due_seconds', gauge: this.queueOldestDueSeconds },
    { name: 'smsc_queue_target_messages', gauge: this.queueTargetMessages },
    { name: 'smsc_queue_target_due_messages', gauge: this.queueTargetDueMessages },
    { name: 'smsc_queue_target_oldest_due_seconds', gauge: this.queueTargetOldestDueSeconds },
    { name: 'smsc_queue_last_sample_timestamp_seconds', gauge: this.queueLastSampleTimestamp },
  ] as const);

  /** Shows the queue gauges in /metrics (this process samples) or hides and zeroes them (it does not). */
  publishQueueMetrics(on: boolean): void {
    for (const { name, gauge } of this.#queueGauges) {
      const registered = this.registry.getSingleMetric(name) !== undefined;
      if (on && !registered) this.registry.registerMetric(gauge);
      if (!on && registered) {
        this.registry.removeSingleMetric(name);
        gauge.reset();
      }
    }
  }

  setConnectorState(connector: string, state: ConnectorStateName): void {
    for (const s of CONNECTOR_STATES) this.connectorStateGauge.set({ connector, state: s }, s === state ? 1 : 0);
  }

  /** A removed connector should not linger as a series. */
  forgetConnector(connector: string): void {
    for (const s of CONNECTOR_STATES) this.connectorStateGauge.remove({ connector, state: s });
  }
}

/** One process's metrics (src/app makes one per process; tests one per component). */
export function createMetrics(): Metrics {
  return new Metrics();
}
