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
