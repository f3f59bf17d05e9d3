import type { Collection, Db } from 'mongodb';
import type { Clock } from '../domain/clock.ts';
import type { Logger } from '../logging/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { Collections } from '../store/collections.ts';
import type { RateLimiter } from '../throttle/rate-limiter.ts';
import type { RequestHandlers } from '../smpp/session.ts';
import type { ConnectorDocument } from './connector-document.ts';
import { OutboundConnector } from './outbound-connector.ts';

export interface ConnectorPoolOptions {
  clock: Clock;
  logger: Logger;
  /** Handed to each connector; a removed connector's state series go with it. */
  metrics: Metrics;
  limiter?: RateLimiter;
  /** How often `connectors` is re-read (added, changed, removed, disabled). Default 2 s. */
  refreshMs?: number;
  backoffScale?: number;
  throttlePauseMs?: number;
  handlers?: Partial<RequestHandlers>;
  /** Per-connector handlers (receipts need to know which connector they came on); wins over `handlers`. */
  handlersFor?: (config: ConnectorDocument) => Partial<RequestHandlers>;
}

/** Runs one OutboundConnector per enabled `connectors` entry and follows changes to the collection. */
export class ConnectorPool {
  readonly #collection: Collection<ConnectorDocument>;
  readonly #options: ConnectorPoolOptions;
  readonly #connectors = new Map<string, { connector: OutboundConnector; fingerprint: string }>();
  #timer: NodeJS.Timeout | undefined;
  #syncing: Promise<void> | undefined;
  #closed = false;

  constructor(db: Db, options: ConnectorPoolOptions) {
    this.#collection = db.collection<ConnectorDocument>(Collections.connectors);
    this.#options = options;
  }

  async start(): Promise<void> {
    await this.sync();
    this.#timer = setInterval(() => void this.sync(), this.#options.refreshMs ?? 2000);
  }

  get(name: string): OutboundConnector | undefined {
    return this.#connectors.get(name)?.connector;
  }

  list(): OutboundConnector[] {
    return [...this.#connectors.values()].map((entry) => entry.connector);
  }

  /** Reconciles running connectors with the collection. */
  sync(): Promise<void> {
    this.#syncing ??= (async () => {
      try {
        const docs = await this.#collection.find({}, { projection: { _id: 0 } }).toArray();
        if (this.#closed) return;
        const wanted = new Map(docs.filter((d) => d.enabled !== false).map((d) => [d.name, d]));
        for (const [name, entry] of this.#connectors) {
          const doc = wanted.get(name);
          if (!doc || fingerprint(doc) !== entry.fingerprint) {
            this.#connectors.delete(name);
            void entry.connector.close().then(() => {
              if (!this.#connectors.has(name)) this.#options.metrics.forgetConnector(name);
            });
          }
        }
        for (const [name, doc] of wanted) {
          if (this.#connectors.has(name)) continue;
          const connector = new OutboundConnector(doc, {
            clock: this.#options.clock,
            logger: this.#options.logger,
            metrics: this.#options.metrics,
            limiter: this.#options.limiter,
            backoffScale: this.#options.backoffScale,
            throttlePauseMs: this.#options.throttlePauseMs,
            handlers: this.#options.handlersFor?.(doc) ?? this.#options.handlers,
          });
          this.#connectors.set(name, { connector, fingerprint: fingerprint(doc) });
          connector.start();
        }
      } catch (error) {
        this.#options.logger.warn({ err: error }, 'could not reload connectors');
      } finally {
        this.#syncing = undefined;
      }
    })();
    return this.#syncing;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#syncing;
    const all = [...this.#connectors.values()];
    this.#connectors.clear();
    await Promise.all(all.map((entry) => entry.connector.close()));
  }
}

function fingerprint(doc: ConnectorDocument): string {
  const { createdAt: _c, updatedAt: _u, ...rest } = doc;
  return JSON.stringify(rest, Object.keys(rest).sort());
}
