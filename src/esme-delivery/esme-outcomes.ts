import { DEFAULT_DELIVERY_OPTIONS, type DeliveryOptions } from '../delivery/delivery-options.ts';

/** The delivery protocol's tunables for traffic to ESMEs, plus how long an ESME may take to answer. */
export interface EsmeDeliveryOptions extends DeliveryOptions {
  /** deliver_sm_resp wait. */
  responseTimeoutMs: number;
}

/** ESMEs are retried sooner than operators (5 s doubling to 10 min); time unbound does not count as attempts. */
export const DEFAULT_ESME_DELIVERY_OPTIONS: Readonly<EsmeDeliveryOptions> = Object.freeze({
  ...DEFAULT_DELIVERY_OPTIONS,
  backoffBaseMs: 5_000,
  backoffMaxMs: 600_000,
  responseTimeoutMs: 10_000,
});
