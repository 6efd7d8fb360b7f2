import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../errors/app-error.ts';
import { TOKENS_PER_PERSON, type ApiToken, type CreatedToken } from '../../contract/api.ts';
import { JsonRecords, type BucketRef } from '../storage/json-records.ts';
import { LOCAL_PERSON, spaceFor, type Person } from './person.ts';

/**
 * Personal API tokens: `pbt_` + 256 random bits (base64url). Only their SHA-256 is kept, in two
 * records outside `uploads/` and `people/` (no route reaches them):
 *   postbox/tokens/by-hash/<sha256 hex>.json          what a bearer token is: id, name, owner
 *   postbox/tokens/by-person/<person id>/<id>.json    what a person's list shows, with the hash to revoke
 * The by-hash record grants access: it is written last on create and removed first on revoke.
 */
export const TOKENS_PREFIX = 'postbox/tokens/';
const BY_HASH = `${TOKENS_PREFIX}by-hash/`;
const BY_PERSON = `${TOKENS_PREFIX}by-person/`;
const TOKEN_FORMAT = /^pbt_[A-Za-z0-9_-]{43}$/;
const TOKEN_ID = /^[0-9a-f]{16}$/;

const TokenRecord = z.object({
  version: z.literal(1),
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  hash: z.string(),
  person: z.object({ id: z.string(), space: z.string(), email: z.string().optional(), name: z.string().optional() }),
});
type TokenRecord = z.infer<typeof TokenRecord>;

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
const byHashKey = (hash: string) => `${BY_HASH}${hash}.json`;
const byPersonPrefix = (personId: string) => `${BY_PERSON}${personId}/`;
const byPersonKey = (personId: string, id: string) => `${byPersonPrefix(personId)}${id}.json`;
const shown = (record: TokenRecord): ApiToken => ({ id: record.id, name: record.name, createdAt: record.createdAt });

export class ApiTokens {
  private readonly records: JsonRecords;

  constructor(
    storage: BucketRef,
    private readonly now: () => number = Date.now,
  ) {
    this.records = new JsonRecords(storage);
  }

  /** A new token for `person`; the answer is the only place the token itself ever appears. */
  async create(person: Person, name: string): Promise<CreatedToken> {
    const existing = await this.records.list(byPersonPrefix(person.id));
    if (existing.length >= TOKENS_PER_PERSON) {
      throw new AppError('invalid_request', `You have ${TOKENS_PER_PERSON} API tokens already; revoke one before making another.`);
    }
    const token = `pbt_${randomBytes(32).toString('base64url')}`;
    const record: TokenRecord = {
      version: 1,
      id: randomBytes(8).toString('hex'),
      name,
      createdAt: new Date(this.now()).toISOString(),
      hash: hashToken(token),
      person: { id: person.id, space: person.space, email: person.email, name: person.name },
    };
    await this.records.write(byPersonKey(person.id, record.id), record, undefined);
    await this.records.write(byHashKey(record.hash), record, undefined);
    return { ...shown(record), token };
  }

  /** The person's tokens, oldest first; never the tokens themselves. */
  async list(person: Person): Promise<ApiToken[]> {
    const keys = await this.records.list(byPersonPrefix(person.id));
    const records = await Promise.all(keys.map(({ key }) => this.records.read(key)));
    return records
      .flatMap((found) => {
        const parsed = TokenRecord.safeParse(found?.value);
        return parsed.success && parsed.data.person.id === person.id ? [parsed.data] : [];
      })
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      .map(shown);
  }

  /** Revokes one of the person's tokens; false when the person has no token with that id (someone else's included). */
  async revoke(person: Person, id: string): Promise<ApiToken | undefined> {
    if (!TOKEN_ID.test(id)) return undefined;
    const found = TokenRecord.safeParse((await this.records.read(byPersonKey(person.id, id)))?.value);
    if (!found.success || found.data.person.id !== person.id) return undefined;
    await this.records.remove(byHashKey(found.data.hash));
    await this.records.remove(byPersonKey(person.id, id));
    return shown(found.data);
  }

  /** Revokes every token of a person (an admin removing them). */
  async revokeAll(personId: string): Promise<number> {
    const keys = await this.records.list(byPersonPrefix(personId));
    let revoked = 0;
    for (const { key } of keys) {
      const found = TokenRecord.safeParse((await this.records.read(key))?.value);
      if (found.success) await this.records.remove(byHashKey(found.data.hash));
      await this.records.remove(key);
      revoked += 1;
    }
    return revoked;
  }

  /**
   * Who a bearer token is, with the token's id (for audit lines); undefined when it is no live
   * personal token (text not shaped like one costs no storage request). Tokens carry no admin
   * rights but the local person's: administering needs a sign-in.
   */
  async lookup(token: string): Promise<{ person: Person; tokenId: string } | undefined> {
    if (!TOKEN_FORMAT.test(token)) return undefined;
    const hash = hashToken(token);
    const found = TokenRecord.safeParse((await this.records.read(byHashKey(hash)))?.value);
    if (!found.success || found.data.hash !== hash) return undefined;
    const { id, email, name } = found.data.person;
    const local = id === LOCAL_PERSON.id;
    if (!local && !/^[0-9a-f]{16,64}$/.test(id)) return undefined;
    // The space is made again from the id, never trusted from the record.
    const person: Person = { id, space: local ? '' : spaceFor(id), admin: local, ...(email && { email }), ...(name && { name }) };
    return { person, tokenId: found.data.id };
  }
}
