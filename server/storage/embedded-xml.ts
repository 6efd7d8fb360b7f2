import { Readable } from 'node:stream';
// s3rver's own error type: thrown from a middleware, it becomes a proper S3 XML error response.
import S3Error from 's3rver/lib/models/error.js';

/**
 * The request bodies the embedded store parses (CompleteMultipartUpload, DeleteObjects, bucket and
 * object configuration), read with a size limit and parsed in one pass. s3rver reads them whole
 * with no limit and parses them with fast-xml-parser 3, which takes seconds on a few hostile MB.
 * This parser takes the plain XML S3 clients send: elements, text, the five named entities and
 * numeric references, an optional `<?xml …?>` declaration; no comments, CDATA or DOCTYPE.
 */

export interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

const refuse = (code: string, message: string): never => {
  throw new S3Error(code, message);
};
const malformed = () =>
  refuse('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
const NAME = /^[A-Za-z_][\w.:-]*$/;
const MAX_DEPTH = 16;
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Reads a whole body of at most `limit` bytes; a longer one (declared or sent) is refused with 400 MaxMessageLengthExceeded. */
export async function readBounded(req: NodeJS.ReadableStream & { headers?: Record<string, unknown> }, limit: number): Promise<Buffer> {
  const tooLong = () => refuse('MaxMessageLengthExceeded', `Your request was too big: this request body may have at most ${limit} bytes.`);
  if (Number(req.headers?.['content-length'] ?? 0) > limit) tooLong();
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > limit) tooLong();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function decodeText(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&([^;&]{0,10});|&/g, (_whole, entity: string | undefined) => {
    if (entity === undefined) return malformed();
    if (ENTITIES[entity] !== undefined) return ENTITIES[entity];
    const code = /^#x[0-9a-fA-F]{1,6}$/.test(entity)
      ? parseInt(entity.slice(2), 16)
      : /^#\d{1,7}$/.test(entity)
        ? Number(entity.slice(1))
        : NaN;
    return code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : malformed();
  });
}

/** Parses a document in time linear in its length; throws 400 MalformedXML for anything else. */
export function parseXml(xml: string): XmlElement {
  let at = xml.charCodeAt(0) === 0xfeff ? 1 : 0;
  const start = xml.slice(at).trimStart();
  at = xml.length - start.length;
  if (start.startsWith('<?xml')) {
    const end = xml.indexOf('?>', at);
    if (end === -1) malformed();
    at = end + 2;
  }
  const stack: { element: XmlElement; text: string[] }[] = [];
  let root: XmlElement | undefined;
  while (at < xml.length) {
    const open = xml.indexOf('<', at);
    const text = xml.slice(at, open === -1 ? xml.length : open);
    if (stack.length) stack.at(-1)!.text.push(text);
    else if (text.trim()) malformed(); // text outside the root element
    if (open === -1) break;
    const close = xml.indexOf('>', open);
    // A tag is `<…>` with no `<` inside (lastIndexOf scans back at most the tag's own length).
    if (close === -1 || xml.lastIndexOf('<', close) !== open) malformed();
    const tag = xml.slice(open + 1, close);
    at = close + 1;
    if (tag.startsWith('/')) {
      const top = stack.pop();
      if (!top || top.element.name !== tag.slice(1).trim()) malformed();
      top!.element.text = decodeText(top!.text.join(''));
      if (!stack.length) root = top!.element;
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const name = (selfClosing ? tag.slice(0, -1) : tag).split(/[ \t\r\n]/, 1)[0]!;
    if (!NAME.test(name) || root || stack.length >= MAX_DEPTH) malformed();
    const element: XmlElement = { name, children: [], text: '' };
    stack.at(-1)?.element.children.push(element);
    if (!selfClosing) stack.push({ element, text: [] });
    else if (!stack.length) root = element;
  }
  if (stack.length || !root) malformed();
  return root!;
}

/** The text of `element`'s only child named `name`, or undefined. */
export function childText(element: XmlElement, name: string): string | undefined {
  const found = element.children.filter((child) => child.name === name);
  if (found.length > 1) malformed();
  return found[0]?.text;
}

export function parseXmlOf(body: Buffer, rootName: string): XmlElement {
  const root = parseXml(body.toString('utf8'));
  if (root.name !== rootName) malformed();
  return root;
}

/** CORS, website and tagging documents: S3 caps a CORS configuration at 64 KB. */
export const MAX_CONFIG_BYTES = 64 * 1024;
/** A DeleteObjects body: at most 1,000 keys of at most 1,024 bytes each, with room for their escaping. */
export const MAX_DELETE_BYTES = 2.5 * 1024 * 1024;

interface KoaContext {
  method: string;
  path: string;
  query: Record<string, unknown>;
  req: NodeJS.ReadableStream & { headers?: Record<string, unknown> };
  body: unknown;
}

/** What `boundXmlBodies` uses of s3rver's FilesystemStore (lib/stores/filesystem.js). */
interface FilesystemStore {
  getBucket(bucket: string): Promise<object | null>;
  existsObject(bucket: string, key: string): Promise<boolean>;
  deleteObject(bucket: string, key: string): Promise<void>;
}

/**
 * Reads, bounds and checks the XML bodies s3rver would read unbounded (Complete is embedded-multipart's):
 * DeleteObjects is answered here, every key checked (s3rver deleted `../` keys outside the bucket);
 * a configuration document (?cors, ?website, ?tagging) is handed on to s3rver once it is small and well-formed.
 */
export function boundXmlBodies(server: object, checkKey: (key: string) => void): void {
  const store = (server as { store: FilesystemStore }).store;
  const guard = async (ctx: KoaContext, next: () => Promise<void>) => {
    const [, rawBucket = '', ...rest] = ctx.path.split('/');
    const bucket = decodeURIComponent(rawBucket); // embedded-auth checked the path's encoding
    const onBucket = rest.join('/') === '';
    if (ctx.method === 'POST' && onBucket && ctx.query.delete !== undefined) return deleteObjects(ctx, bucket);
    if (ctx.method === 'PUT' && ['cors', 'website', 'tagging'].some((name) => ctx.query[name] !== undefined)) {
      const body = await readBounded(ctx.req, MAX_CONFIG_BYTES);
      parseXml(body.toString('utf8'));
      ctx.req = Readable.from([body]);
    }
    return next();
  };

  const deleteObjects = async (ctx: KoaContext, bucket: string) => {
    const root = parseXmlOf(await readBounded(ctx.req, MAX_DELETE_BYTES), 'Delete');
    const objects = root.children.filter((child) => child.name === 'Object');
    if (objects.length === 0 || objects.length > 1000) malformed();
    const keys = objects.map((object) => childText(object, 'Key') ?? malformed());
    keys.forEach(checkKey);
    if (!(await store.getBucket(bucket))) refuse('NoSuchBucket', 'The specified bucket does not exist');
    // One at a time: s3rver's delete removes emptied folders, which two deletes side by side could race on.
    for (const key of keys) if (await store.existsObject(bucket, key)) await store.deleteObject(bucket, key);
    const quiet = childText(root, 'Quiet')?.trim() === 'true';
    ctx.body = {
      DeleteResult: {
        '@': { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' },
        ...(quiet ? {} : { Deleted: keys.map((Key) => ({ Key })) }),
      },
    };
  };

  // s3rver is a Koa app: its router is the last middleware; check before it routes.
  const middleware = (server as { middleware: unknown[] }).middleware;
  middleware.splice(middleware.length - 1, 0, guard);
}
