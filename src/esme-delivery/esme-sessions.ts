import { EventEmitter } from 'node:events';
import type { BindMode } from '../smpp/domain.ts';
import type { SmppSession } from '../smpp/session.ts';

const RECEIVING: ReadonlySet<BindMode> = new Set(['receiver', 'transceiver']);

interface EsmeSessionEvents {
  /** An ESME bound a receiver or transceiver here: its waiting traffic can go now. */
  bound: [systemId: string];
}

/**
 * The receiver and transceiver binds this inserter holds, by system_id. Sessions are attached
 * when they connect; they count once bound and drop out when they unbind or close.
 */
export class EsmeSessions extends EventEmitter<EsmeSessionEvents> {
  readonly #bySystemId = new Map<string, Set<SmppSession>>();
  #next = 0;

  attach(session: SmppSession): void {
    session.on('bound', (mode, systemId) => {
      if (!RECEIVING.has(mode)) return;
      let set = this.#bySystemId.get(systemId);
      if (!set) this.#bySystemId.set(systemId, (set = new Set()));
      set.add(session);
      // After the bind_resp has gone out (it is written right after this event).
      setImmediate(() => this.emit('bound', systemId));
    });
    const drop = () => {
      const systemId = session.systemId;
      if (systemId === null) return;
      const set = this.#bySystemId.get(systemId);
      set?.delete(session);
      if (set && set.size === 0) this.#bySystemId.delete(systemId);
    };
    session.on('unbind', drop);
    session.once('close', drop);
  }

  /** System ids with at least one usable receiving bind here. */
  systemIds(): string[] {
    return [...this.#bySystemId.keys()].filter((id) => this.pick(id) !== undefined);
  }

  /** A usable session for `systemId`: open, still bound to receive; the least busy, rotating among equals. */
  pick(systemId: string): SmppSession | undefined {
    const set = this.#bySystemId.get(systemId);
    if (!set) return undefined;
    const usable = [...set].filter((s) => s.state === 'open' && s.bindMode !== null && RECEIVING.has(s.bindMode));
    if (usable.length === 0) return undefined;
    const least = Math.min(...usable.map((s) => s.outstanding));
    const candidates = usable.filter((s) => s.outstanding === least);
    return candidates[this.#next++ % candidates.length];
  }
}
