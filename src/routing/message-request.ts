import type { SmsDocument } from '../domain/sms-document.ts';
import type { RoutingRequest } from './decide-route.ts';
import type { IntakeKindName } from './route-document.ts';

/**
 * The destination's serving network as the HLR lookup at intake stored it (`sms.hlr.network`,
 * written by src/policy when hlr.policy or hlr.routing asks for lookups), when there was one:
 * routes naming that network win over destination prefixes (ported numbers).
 */
export function hlrNetworkOf(sms: SmsDocument): string | undefined {
  const network = (sms as { hlr?: { network?: unknown } }).hlr?.network;
  return typeof network === 'string' && network !== '' ? network : undefined;
}

/** The routing question for a stored (or about to be stored) message. */
export function routingRequestOf(sms: SmsDocument, at: Date, intake?: IntakeKindName): RoutingRequest {
  const network = hlrNetworkOf(sms);
  return {
    to: sms.destKey,
    from: sms.source.addr,
    account: sms.account,
    intake: intake ?? sms.intake ?? 'smpp',
    ...(network ? { network } : {}),
    at,
  };
}
