import { describe, expect, it } from 'vitest';
import { parseMessageIdForm } from '../../../src/cli/index.ts';
import { tlsOptionsOf, validateConnector } from '../../../src/connectors/index.ts';
import { ConfigValidationError, loadConfig } from '../../../src/config/index.ts';

const base = { name: 'op1', host: 'smsc.example', port: 2775, systemId: 'me', password: 'pw' };

describe('connector fields', () => {
  it('validates the session fields with precise sentences', () => {
    expect(
      validateConnector({
        ...base,
        systemType: 'VMA',
        enquireLinkMs: 0,
        responseTimeoutMs: 5000,
        messageIdForm: { submit: 'hex', receipt: 'decimal' },
      }),
    ).toMatchObject({ systemType: 'VMA', enquireLinkMs: 0 });
    expect(() => validateConnector({ ...base, systemType: 'x'.repeat(13), enquireLinkMs: 500, responseTimeoutMs: 50 })).toThrow(
      /system type must be at most 12 characters; response timeout must be 100\.\.300000 ms; enquire-link interval must be 0 \(never\) or 1000\.\.3600000 ms/,
    );
    expect(() =>
      validateConnector({ ...base, messageIdForm: { submit: 'octal' as never, receipt: { format: 'hex', ignoreCase: true } } }),
    ).toThrow(
      /message id form \(submit\) must be one of string, hex, decimal; message id form \(receipt\): ignore-case and strip-zeros apply to string ids only/,
    );
  });

  it('TLS settings need --tls, a certificate needs its key, and PEMs must parse', () => {
    expect(() => validateConnector({ ...base, tlsInsecure: true })).toThrow(/tlsInsecure need tls/);
    expect(() => validateConnector({ ...base, tls: true, tlsCert: 'nope' })).toThrow(
      /client certificate and its key go together; the TLS client certificate must be a PEM certificate/,
    );
    expect(() =>
      validateConnector({ ...base, tls: true, tlsCa: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }),
    ).toThrow(/CA must be a PEM certificate/);
    expect(validateConnector({ ...base, tls: true, tlsInsecure: true }).tls).toBe(true);
  });

  it('turns the stored TLS settings into connect options', () => {
    expect(tlsOptionsOf(validateConnector(base))).toBeUndefined();
    expect(tlsOptionsOf(validateConnector({ ...base, tls: true }))).toEqual({ rejectUnauthorized: true });
    expect(tlsOptionsOf(validateConnector({ ...base, tls: true, tlsInsecure: true, tlsServername: 'smsc.example.net' }))).toEqual({
      rejectUnauthorized: false,
      servername: 'smsc.example.net',
    });
  });

  it('reads --message-id-form', () => {
    expect(parseMessageIdForm('hex')).toEqual({ submit: 'hex', receipt: 'hex' });
    expect(parseMessageIdForm('hex:decimal')).toEqual({ submit: 'hex', receipt: 'decimal' });
    expect(parseMessageIdForm('string+ignore-case+strip-zeros')).toEqual({
      submit: { format: 'string', ignoreCase: true, stripLeadingZeros: true },
      receipt: { format: 'string', ignoreCase: true, stripLeadingZeros: true },
    });
    expect(() => parseMessageIdForm('base64')).toThrow(/use string, hex or decimal/);
    expect(() => parseMessageIdForm('hex:hex:hex')).toThrow(/at most SUBMIT:RECEIPT/);
  });
});

describe('TLS and charging settings', () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig({ env });
      return [];
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigValidationError);
      return (error as ConfigValidationError).problems;
    }
  };

  it('the TLS port needs a certificate and key, which go together', () => {
    expect(problems({ SMPP_TLS_CERT: 'c.pem' })).toEqual(['inserter.tlsCert (--tls-cert) and inserter.tlsKey (--tls-key) go together']);
    expect(problems({ SMPP_TLS_PORT: '3550' })).toEqual([
      'inserter.smppTlsPort (--smpp-tls-port) needs inserter.tlsCert and inserter.tlsKey (--tls-cert, --tls-key)',
    ]);
    expect(loadConfig({ env: { SMPP_TLS_CERT: 'c.pem', SMPP_TLS_KEY: 'k.pem' } }).inserter).toMatchObject({
      smppTlsPort: undefined,
      tlsCert: 'c.pem',
      tlsKey: 'k.pem',
    });
  });

  it('the charging endpoint is an http(s) URL, its timeout bounded', () => {
    expect(loadConfig({ env: { CHARGING_URL: 'https://billing.example/charge' } }).charging).toEqual({
      url: 'https://billing.example/charge',
      timeoutMs: 5000,
    });
    expect(problems({ CHARGING_URL: 'ftp://x', CHARGING_TIMEOUT_MS: '10' })).toEqual([
      'CHARGING_URL must be an http:// or https:// URL, got "ftp://x"',
      'CHARGING_TIMEOUT_MS must be an integer from 100 to 60000, got "10"',
    ]);
  });
});
