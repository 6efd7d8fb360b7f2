import { createHash } from 'node:crypto';

/**
 * Who a request acts for. Files live under the person's space (a key prefix the server makes), so
 * whose a file is follows from its key: share links, request links and listings need no owner
 * table.
 */
export interface Person {
  /** Stable and safe in keys and logs: `local` in the single-person modes; for OIDC a hash of issuer + sub (never the e-mail). */
  id: string;
  /** Key prefix of this person's files: '' for the local person (the layout from before accounts), `people/<id>/` otherwise. */
  space: string;
  admin: boolean;
  email?: string;
  name?: string;
}

/** The one person of the open and password modes; their files are the ones made before accounts. */
export const LOCAL_PERSON: Person = Object.freeze({ id: 'local', space: '', admin: true });

export const PEOPLE_PREFIX = 'people/';

/** The key prefix for a person id (ids are made by the server: lower-case hex or `local`). */
export function spaceFor(personId: string): string {
  if (personId === LOCAL_PERSON.id) return '';
  if (!/^[0-9a-f]{16,64}$/.test(personId)) throw new Error('person ids are hex digests');
  return `${PEOPLE_PREFIX}${personId}/`;
}

/** A person's id: a digest of issuer and subject, never the e-mail (which can change or be given to someone else). */
export function personIdOf(issuer: string, sub: string): string {
  return createHash('sha256').update(`${issuer}\n${sub}`).digest('hex').slice(0, 32);
}
