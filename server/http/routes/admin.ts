import type { RequestHandler, Router } from 'express';
import { AppError } from '../../errors/app-error.ts';
import type { PeopleCensus } from '../../people/census.ts';
import { LOCAL_PERSON, spaceFor } from '../../people/person.ts';
import { GiveFileRequest, type GivenFile, type PeopleUsage, type RemovedFiles } from '../../../contract/api.ts';
import { audit } from '../audit.ts';
import { personOf } from '../upload-key.ts';

const PERSON_ID = /^(local|[0-9a-f]{16,64})$/;

/** Admins only (Person.admin: POSTBOX_ADMINS via isAdmin, or the local person of its own Postbox). */
const requireAdmin: RequestHandler = (_req, res, next) => {
  next(personOf(res).admin ? undefined : new AppError('forbidden', 'Only admins of this Postbox may do that.'));
};

/**
 * Admin API: everyone's usage, removing a person's files and links, giving a file from before
 * accounts to a person. No route here returns a file's bytes or a link to them; every action is an audit line.
 */
export function adminRoutes(router: Router, census: PeopleCensus): void {
  router.get('/admin/people', requireAdmin, async (_req, res) => {
    const answer: PeopleUsage = { people: await census.people() };
    audit(res, 'admin.people');
    res.json(answer);
  });

  router.delete<{ id: string }>('/admin/people/:id/files', requireAdmin, async (req, res) => {
    const { id } = req.params;
    if (!PERSON_ID.test(id)) throw new AppError('not_found', 'There is no such person.');
    const removed: RemovedFiles = await census.removeFiles({ id, space: id === LOCAL_PERSON.id ? '' : spaceFor(id) });
    audit(res, 'admin.remove-files', { owner: id, ...removed });
    res.json(removed);
  });

  router.post<{ key: string }>('/admin/legacy/:key/owner', requireAdmin, async (req, res) => {
    const { personId } = GiveFileRequest.parse(req.body);
    const given = await census.giveLegacy(req.params.key, personId);
    audit(res, 'admin.give-file', { file: req.params.key, owner: personId, newKey: given.key });
    const answer: GivenFile = { key: given.key };
    res.status(201).json(answer);
  });
}
