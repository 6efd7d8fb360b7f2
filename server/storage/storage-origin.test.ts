import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { createSigningClient } from './s3-client.ts';
import { OriginSigners } from './storage-origin.ts';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };

function signers(max: number) {
  const made: { endpoint: string; client: S3Client; destroyed: boolean }[] = [];
  const cache = new OriginSigners({
    bucket: 'postbox',
    max,
    makeClient: (endpoint) => {
      const client = createSigningClient({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials });
      const entry = { endpoint, client, destroyed: false };
      const destroy = client.destroy.bind(client);
      client.destroy = () => {
        entry.destroyed = true;
        destroy();
      };
      made.push(entry);
      return client;
    },
  });
  return { cache, made };
}

describe('OriginSigners', () => {
  it('signs for <origin>/storage, one signer per origin', async () => {
    const { cache, made } = signers(4);
    const signer = cache.get('http://nas.lan:8080');
    expect(cache.get('http://nas.lan:8080')).toBe(signer);
    expect(made.map((m) => m.endpoint)).toEqual(['http://nas.lan:8080/storage']);
    const url = await signer.presignGetObject({ bucket: 'postbox', key: 'uploads/a b.txt', expiresIn: 60 });
    expect(url.startsWith('http://nas.lan:8080/storage/postbox/uploads/a%20b.txt?')).toBe(true);
    const policy = await signer.presignPost({ bucket: 'postbox', key: 'uploads/x', expiresIn: 60 });
    expect(policy.url).toBe('http://nas.lan:8080/storage/postbox');
    cache.close();
  });

  it('keeps at most `max` (origins come from requests), dropping the least recently used', () => {
    const { cache, made } = signers(2);
    cache.get('http://10.0.0.1:8080');
    cache.get('http://10.0.0.2:8080');
    cache.get('http://10.0.0.1:8080'); // used again: .2 is now the oldest
    cache.get('http://10.0.0.3:8080');
    expect(cache.size).toBe(2);
    expect(made.filter((m) => m.destroyed).map((m) => m.endpoint)).toEqual(['http://10.0.0.2:8080/storage']);
    for (let i = 10; i < 200; i++) cache.get(`http://10.0.0.${i}:8080`);
    expect(cache.size).toBe(2);
    cache.close();
    expect(made.every((m) => m.destroyed)).toBe(true);
  });
});
