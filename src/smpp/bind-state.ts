import { CommandStatus } from './command-status.ts';
import { bindModeOf, type BindMode } from './domain.ts';

/** How a request is refused: with its own response carrying `status`, or with generic_nack. */
export interface Refusal {
  status: number;
  genericNack: boolean;
}

// What an ESME may send in each bind state (SMPP 3.4 section 2.3). deliver_sm is allowed from
// transmitters and transceivers because peer SMSCs bound to us deliver MO traffic with it.
const RECEIVER_MAY_SEND: ReadonlySet<string> = new Set(['data_sm']);

/**
 * A session's bind: unbound, a bind being decided (by our handler on the server side), bound in
 * one mode as one system_id, unbound again. On the server side it also says which requests an
 * ESME may send in its state.
 */
export class BindState {
  #mode: BindMode | null = null;
  #systemId: string | null = null;
  #deciding = false;

  get mode(): BindMode | null {
    return this.#mode;
  }

  /** The system_id of the last successful bind (kept after unbind, for logs). */
  get systemId(): string | null {
    return this.#systemId;
  }

  /**
   * A bind request is with its handler. Nothing else is dispatched meanwhile, so a PDU pipelined
   * right behind the bind is judged by the bind's outcome, not refused as "not bound".
   */
  get deciding(): boolean {
    return this.#deciding;
  }

  startDeciding(): void {
    this.#deciding = true;
  }

  doneDeciding(): void {
    this.#deciding = false;
  }

  bound(mode: BindMode, systemId: string): void {
    this.#mode = mode;
    this.#systemId = systemId;
  }

  unbound(): void {
    this.#mode = null;
  }

  /** How the SMSC side refuses `command` from an ESME in this state; undefined when it is allowed. */
  refusalOf(command: string): Refusal | undefined {
    const isBind = bindModeOf(command) !== undefined;
    if (isBind && (this.#mode || this.#deciding)) return { status: CommandStatus.ESME_RALYBND, genericNack: false };
    if (!isBind && !this.#mode) return { status: CommandStatus.ESME_RINVBNDSTS, genericNack: true };
    if (!isBind && this.#mode === 'receiver' && !RECEIVER_MAY_SEND.has(command)) {
      return { status: CommandStatus.ESME_RINVBNDSTS, genericNack: false };
    }
    return undefined;
  }
}
