import { personIdOf } from './person.ts';

/** What the identity provider said about a person, as far as deciding admins goes. */
export interface IdentityClaims {
  issuer?: string;
  subject?: string;
  email?: string;
  /** The provider's `email_verified`: an e-mail it did not verify never makes an admin. */
  emailVerified?: boolean;
}

/**
 * Whether POSTBOX_ADMINS names this person: an entry with `|` is `issuer|sub` (exact, the stable
 * identity), any other entry an e-mail address the provider verified (compared case-insensitively).
 * The OIDC sign-in calls this when it makes the session's Person; the local person of the open
 * and password modes is the admin of its own Postbox anyway (LOCAL_PERSON.admin).
 */
export function isAdmin(claims: IdentityClaims, admins: readonly string[]): boolean {
  const identity = claims.issuer && claims.subject ? `${claims.issuer}|${claims.subject}` : undefined;
  const email = claims.email && claims.emailVerified === true ? claims.email.toLowerCase() : undefined;
  return admins.some((entry) => (entry.includes('|') ? entry === identity : email !== undefined && entry.toLowerCase() === email));
}

/**
 * The same decision for a signed-in session, which keeps the person's id (a digest of issuer and
 * sub) and only a verified e-mail: `issuer|sub` entries are compared by that digest.
 */
export function adminMatcher(admins: readonly string[]): (person: { id: string; email?: string }) => boolean {
  const ids = new Set(
    admins
      .filter((entry) => entry.includes('|'))
      .map((entry) => personIdOf(entry.slice(0, entry.lastIndexOf('|')), entry.slice(entry.lastIndexOf('|') + 1))),
  );
  const emails = new Set(admins.filter((entry) => !entry.includes('|')).map((entry) => entry.toLowerCase()));
  return (person) => ids.has(person.id) || (person.email !== undefined && emails.has(person.email.toLowerCase()));
}
