import { describe, expect, it } from 'vitest';
import { metricsVerdict } from './metrics-route.ts';

const TOKEN = 'a-metrics-token-of-some-length';
const from = (remoteAddress: string | undefined, headers: Record<string, string> = {}) => ({ remoteAddress, headers });

describe('metricsVerdict', () => {
  it('serves loopback sockets, IPv4, IPv6 and IPv4-mapped', () => {
    for (const address of ['127.0.0.1', '127.0.0.2', '::1', '::ffff:127.0.0.1'])
      expect(metricsVerdict(from(address), undefined)).toBe('serve');
  });

  it('does not serve other sockets without a token, whatever they claim in headers', () => {
    for (const address of ['10.0.0.1', '192.168.1.5', '::ffff:10.0.0.1', 'fe80::1', '2001:db8::1', '128.0.0.1', '::2', undefined]) {
      expect(metricsVerdict(from(address), TOKEN)).toBe('not_found');
      expect(metricsVerdict(from(address, { 'x-forwarded-for': '127.0.0.1' }), TOKEN)).toBe('not_found');
    }
  });

  it('does not serve a loopback socket that carries proxy headers: a local proxy would expose it to everyone', () => {
    for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip', 'x-forwarded-host']) {
      expect(metricsVerdict(from('127.0.0.1', { [header]: '127.0.0.1' }), undefined)).toBe('not_found');
    }
  });

  it('serves the right bearer token from anywhere, and refuses a wrong or unconfigured one', () => {
    expect(metricsVerdict(from('203.0.113.7', { authorization: `Bearer ${TOKEN}` }), TOKEN)).toBe('serve');
    expect(metricsVerdict(from('203.0.113.7', { authorization: `bearer ${TOKEN}` }), TOKEN)).toBe('serve');
    expect(metricsVerdict(from('203.0.113.7', { authorization: `Bearer ${TOKEN}x` }), TOKEN)).toBe('unauthorized');
    expect(metricsVerdict(from('203.0.113.7', { authorization: `Basic ${TOKEN}` }), TOKEN)).toBe('unauthorized');
    expect(metricsVerdict(from('127.0.0.1', { authorization: `Bearer ${TOKEN}` }), undefined)).toBe('unauthorized');
  });
});
