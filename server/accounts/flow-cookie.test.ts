import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FLOW_SECONDS, openFlow, sealFlow } from './flow-cookie.ts';
import { personIdOf } from '../people/person.ts';

const key = randomBytes(32);
const flow = { verifier: 'v'.repeat(43), state: 's'.repeat(43), nonce: 'n'.repeat(43) };
const now = 1_800_000_000_000;

describe('sign-in flow cookies', () => {
  it('give back the flow until their time is over', () => {
    const sealed = sealFlow(key, flow, now);
    expect(openFlow(key, sealed, now)).toEqual(flow);
    expect(openFlow(key, sealed, now + FLOW_SECONDS * 1000 - 1)).toEqual(flow);
    expect(openFlow(key, sealed, now + FLOW_SECONDS * 1000)).toBe('expired');
  });

  it('are refused when absent, edited or sealed under another key', () => {
    const sealed = sealFlow(key, flow, now);
    const [v, body, mac] = sealed.split('.');
    const edited = Buffer.from(JSON.stringify({ ...flow, state: 'x', until: 2e9 })).toString('base64url');
    expect(openFlow(key, undefined, now)).toBe('missing');
    expect(openFlow(key, `${v}.${edited}.${mac}`, now)).toBe('missing');
    expect(openFlow(randomBytes(32), sealed, now)).toBe('missing');
    expect(openFlow(key, `${sealed}x`, now)).toBe('missing');
    expect(body).toBeTruthy();
  });
});

describe('person ids', () => {
  it('are hex digests of issuer and subject: another issuer with the same sub is another person', () => {
    const id = personIdOf('https://id.example.com', 'alice');
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(personIdOf('https://id.example.com', 'alice')).toBe(id);
    expect(personIdOf('https://other.example.com', 'alice')).not.toBe(id);
    expect(personIdOf('https://id.example.com\nalice', '')).not.toBe(personIdOf('https://id.example.com', '\nalice'));
  });
});
