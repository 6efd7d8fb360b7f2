import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FlowState } from './oidc-sign-in.ts';

/** How long a person has at the provider's sign-in page before the callback refuses the answer. */
export const FLOW_SECONDS = 600;

const FORMAT = /^f1\.([A-Za-z0-9_-]{1,1024})\.([0-9a-f]{64})$/;
const mac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();

/**
 * The PKCE verifier, state and nonce of one sign-in, MACed and timed, for a short-lived httpOnly
 * cookie: any instance can finish a sign-in another one started, and nothing is kept in memory.
 */
export function sealFlow(key: Buffer, flow: FlowState, nowMs: number): string {
  const text = `f1.${Buffer.from(JSON.stringify({ ...flow, until: Math.floor(nowMs / 1000) + FLOW_SECONDS })).toString('base64url')}`;
  return `${text}.${mac(key, text).toString('hex')}`;
}

/** The flow, when the value is one this key sealed and its time is not over; else why not. */
export function openFlow(key: Buffer, value: string | undefined, nowMs: number): FlowState | 'missing' | 'expired' {
  const match = value === undefined ? null : FORMAT.exec(value);
  if (!match) return 'missing';
  if (!timingSafeEqual(Buffer.from(match[2]!, 'hex'), mac(key, value!.slice(0, value!.lastIndexOf('.'))))) return 'missing';
  const { verifier, state, nonce, until } = JSON.parse(Buffer.from(match[1]!, 'base64url').toString('utf8')) as FlowState & {
    until: number;
  };
  if (until * 1000 <= nowMs) return 'expired';
  return { verifier, state, nonce };
}
