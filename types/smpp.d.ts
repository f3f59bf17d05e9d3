// Our own declarations for the parts of the `smpp` package (0.5.1, CommonJS) that src/smpp uses.
// Written from node_modules/smpp/lib/{smpp,pdu,defs}.js; nothing outside src/smpp should import
// 'smpp' directly (tests that play an independent ESME are the exception).
// Import as `import smpp from 'smpp'`: several exports (errors, consts, encodings) are copied
// onto module.exports in loops, so Node's ESM named-export detection does not see them.

declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer, Socket, ServerOpts } from 'node:net';

  namespace smpp {
    /** A field codec from defs.types: read/write/size over a Buffer. */
    interface FieldType<T = unknown> {
      read(buffer: Buffer, offset: number, length?: number): T;
      write(value: T, buffer: Buffer, offset: number): void;
      size(value: T): number;
      default: T;
    }

    interface Types {
      int8: FieldType<number>;
      int16: FieldType<number>;
      int32: FieldType<number>;
      /** One length octet, then the bytes (short_message: sm_length + data). */
      string: FieldType<string>;
      cstring: FieldType<string>;
      buffer: FieldType<Buffer>;
      dest_address_array: FieldType<DestAddress[]>;
      unsuccess_sme_array: FieldType<UnsuccessSme[]>;
      tlv: {
        int8: FieldType<number>;
        int16: FieldType<number>;
        int32: FieldType<number>;
        cstring: FieldType<string>;
        string: FieldType<string>;
        buffer: FieldType<Buffer | null>;
      };
    }

    interface DestAddress {
      dest_addr_ton?: number;
      dest_addr_npi?: number;
      destination_addr?: string;
      dl_name?: string;
    }

    interface UnsuccessSme {
      dest_addr_ton: number;
      dest_addr_npi: number;
      destination_addr: string;
      error_status_code: number;
    }

    interface Filter {
      encode(this: PDU, value: unknown, skip?: unknown): unknown;
      decode(this: PDU, value: unknown, skip?: unknown): unknown;
    }

    interface ParamDef {
      type: FieldType<any>;
      default?: unknown;
      filter?: Filter;
    }

    interface CommandDef {
      id: number;
      command: string;
      params?: Record<string, ParamDef>;
      tlvMap?: Record<string, string>;
    }

    interface TlvDef {
      id: number;
      tag: string;
      type: FieldType<any>;
      multiple?: boolean;
      filter?: Filter;
    }

    interface Encoding {
      match(value: string): boolean;
      encode(value: string): Buffer;
      decode(value: Buffer): string;
    }

    /** A PDU as the library builds it: header fields plus snake_case params and TLVs as properties. */
    class PDU {
      constructor(command: string, options?: Record<string, unknown>);
      constructor(buffer: Buffer);
      command: string;
      command_length: number;
      command_id: number;
      command_status: number;
      sequence_number: number;
      [field: string]: unknown;
      isResponse(): boolean;
      /** The matching `<command>_resp` (or generic_nack for an unknown command). */
      response(options?: Record<string, unknown>): PDU;
      toBuffer(): Buffer;
      /** Global cap the library applies when *it* parses (16384 by default). */
      static maxLength: number;
      static fromBuffer(buffer: Buffer): PDU | false;
    }

    interface SessionOptions {
      host?: string;
      port?: number;
      socket?: Socket;
      tls?: boolean;
      auto_enquire_link_period?: number;
      [option: string]: unknown;
    }

    /**
     * One SMPP connection. Its reader (`_extractPDUs`, bound to the socket's 'readable' event)
     * stops for good after a parse error; src/smpp/session.ts replaces it.
     */
    class Session extends EventEmitter {
      constructor(options: SessionOptions);
      socket: Socket;
      options: SessionOptions;
      /** Last sequence number sent; send() wraps 0x7FFFFFFF back to 1. */
      sequence: number;
      paused: boolean;
      server?: Server;
      /**
       * Writes the PDU; for a request without a sequence_number assigns the next one.
       * Returns false (and never calls back) when the socket is not writable.
       */
      send(pdu: PDU, responseCallback?: (pdu: PDU) => void, sendCallback?: (pdu: PDU) => void): boolean;
      pause(): void;
      resume(): void;
      close(callback?: () => void): void;
      destroy(callback?: () => void): void;
      connect(): void;
    }

    class Server extends NetServer {
      constructor(options?: ServerOpts, listener?: (session: Session) => void);
      sessions: Session[];
      on(event: 'session', listener: (session: Session) => void): this;
      on(event: string, listener: (...args: any[]) => void): this;
    }

    function createServer(listener?: (session: Session) => void): Server;
    function createServer(options: ServerOpts & Record<string, unknown>, listener?: (session: Session) => void): Server;

    function connect(options: SessionOptions | string, listener?: () => void): Session;
    const createSession: typeof connect;

    const types: Types;
    const commands: Record<string, CommandDef>;
    const commandsById: Record<number, CommandDef>;
    const tlvs: Record<string, TlvDef>;
    const tlvsById: Record<number, TlvDef>;
    const errors: Record<string, number>;
    const consts: {
      REGISTERED_DELIVERY: Record<string, number>;
      ESM_CLASS: Record<string, number>;
      MESSAGE_STATE: Record<string, number>;
      TON: Record<string, number>;
      NPI: Record<string, number>;
      ENCODING: Record<string, number>;
      NETWORK: Record<string, number>;
      BROADCAST_AREA_FORMAT: Record<string, number>;
      BROADCAST_FREQUENCY_INTERVAL: Record<string, number>;
    };
    const encodings: Record<'ASCII' | 'LATIN1' | 'UCS2', Encoding> & {
      detect(value: string): 'ASCII' | 'LATIN1' | 'UCS2' | false;
      default: string;
    };
    const filters: Record<string, Filter>;

    function addCommand(command: string, options: { id: number; params?: Record<string, ParamDef> }): void;
    function addTLV(tag: string, options: { id: number; type: FieldType<any>; multiple?: boolean }): void;

    // Every errors.* and consts.* entry is also copied onto the module itself.
    const ESME_ROK: number;
    const ESME_RINVCMDID: number;
    const ESME_RSYSERR: number;
  }

  export = smpp;
}
