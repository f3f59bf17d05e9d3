import type { ShortMessage } from '../../src/smpp/index.ts';

/** A submit_sm/deliver_sm as the SMPP adapter hands it over: every field at its SMPP default. */
export function shortMessage(overrides: Partial<ShortMessage> = {}): ShortMessage {
  return {
    serviceType: '',
    source: { ton: 1, npi: 1, addr: '491701234567' },
    dest: { ton: 1, npi: 1, addr: '447700900123' },
    esmClass: 0,
    protocolId: 0,
    priority: 0,
    scheduleDeliveryTime: '',
    validityPeriod: '',
    registeredDelivery: 0,
    replaceIfPresent: 0,
    dataCoding: 0,
    smDefaultMsgId: 0,
    shortMessage: Buffer.alloc(0),
    tlvs: {},
    unknownTlvs: [],
    ...overrides,
  };
}
