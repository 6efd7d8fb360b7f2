import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { childText, parseXml, parseXmlOf, readBounded } from './embedded-xml.ts';

async function refusal(action: () => unknown): Promise<{ code: string; status: number } | undefined> {
  try {
    await action();
    return undefined;
  } catch (err) {
    const { code, status, message } = err as { code: string; status: number; message: string };
    expect(message, 'S3 clients show the message: it must say something').toMatch(/\w/);
    return { code, status };
  }
}
const MALFORMED = { code: 'MalformedXML', status: 400 };
const TOO_BIG = { code: 'MaxMessageLengthExceeded', status: 400 };

const body = (chunks: string[], headers: Record<string, unknown> = {}) =>
  Object.assign(Readable.from(chunks.map((c) => Buffer.from(c))), { headers });

describe('readBounded', () => {
  it('reads a body of up to the limit whole, across chunks', async () => {
    expect((await readBounded(body(['abc', 'de']), 5)).toString()).toBe('abcde');
    expect((await readBounded(body(['abc', 'de'], { 'content-length': '5' }), 5)).toString()).toBe('abcde');
  });

  it('reads a stream that has no headers (bounded by what is sent)', async () => {
    expect((await readBounded(Readable.from([Buffer.from('abc')]), 5)).toString()).toBe('abc');
  });

  it('refuses a body one byte over the limit, declared or sent', async () => {
    expect(await refusal(() => readBounded(body(['abc', 'def']), 5))).toEqual(TOO_BIG);
    expect(await refusal(() => readBounded(body(['abcdef']), 5))).toEqual(TOO_BIG);
    // Declared too long: refused before a byte is read (the stream would have been short).
    expect(await refusal(() => readBounded(body(['a'], { 'content-length': '6' }), 5))).toEqual(TOO_BIG);
  });

  it('says the limit in its message', async () => {
    await expect(readBounded(body(['abcdef']), 5)).rejects.toThrow('at most 5 bytes');
  });
});

describe('parseXml', () => {
  it('reads elements, text, entities and numeric references, after a BOM, whitespace and a declaration', () => {
    const xml =
      '\ufeff \n<?xml version="1.0" encoding="UTF-8"?>\n<Delete xmlns="x"><Object><Key>a&lt;b&gt;&amp;&quot;&apos;&#65;&#x42;&#x1F600;</Key></Object>' +
      '<Quiet>true</Quiet><Empty/></Delete>\n';
    const root = parseXml(xml);
    expect(root.name).toBe('Delete');
    expect(root.children.map((c) => c.name)).toEqual(['Object', 'Quiet', 'Empty']);
    expect(root.children[0]!.children[0]).toEqual({ name: 'Key', children: [], text: 'a<b>&"\'AB😀' });
    expect(childText(root, 'Quiet')).toBe('true');
    expect(childText(root, 'Empty')).toBe('');
  });

  it('keeps text that has no entity as it is, and a self-closing root', () => {
    expect(parseXml('<A>  plain text  </A>').text).toBe('  plain text  ');
    expect(parseXml('<A/>')).toEqual({ name: 'A', children: [], text: '' });
    expect(parseXml('<A attr="1" />').name).toBe('A');
    expect(parseXml('<A\tb="1"></A >').name).toBe('A');
  });

  it('joins the text around child elements', () => {
    expect(parseXml('<A>x<B>y</B>z</A>').text).toBe('xz');
  });

  it('keeps self-closing children as children, not as the root', () => {
    expect(parseXml('<A><B/><C/></A>').children.map((c) => c.name)).toEqual(['B', 'C']);
  });

  it.each([
    ['nothing', ''],
    ['only a declaration', '<?xml version="1.0"?>'],
    ['an unclosed declaration', '<?xml version="1.0"<A></A>'],
    ['text before the root', 'x<A></A>'],
    ['text after the root', '<A></A>x'],
    ['a second root', '<A></A><B></B>'],
    ['a second root after a self-closing one', '<A/><B/>'],
    ['an unclosed element', '<A><B></B>'],
    ['a close without an open', '</A>'],
    ['a mismatched close', '<A></B>'],
    ['an unclosed tag', '<A'],
    ['a `<` inside a tag', '<A <B></B></A>'],
    ['a comment', '<A><!-- x --></A>'],
    ['CDATA', '<A><![CDATA[x]]></A>'],
    ['a DOCTYPE', '<!DOCTYPE A><A></A>'],
    ['a name starting with a digit', '<1A></1A>'],
    ['an unknown entity', '<A>&foo;</A>'],
    ['a bare ampersand', '<A>a & b</A>'],
    ['an unterminated entity', '<A>&amp</A>'],
    ['a reference past U+10FFFF', '<A>&#x110000;</A>'],
    ['a decimal reference past U+10FFFF', '<A>&#1114112;</A>'],
    ['a malformed hex reference', '<A>&#xZZ;</A>'],
    ['a hex reference with more after it', '<A>&#x41zz;</A>'],
    ['a `<` inside an attribute', '<A b="<">y</A>'],
    ['a malformed decimal reference', '<A>&#1a;</A>'],
    ['an entity name too long', '<A>&aaaaaaaaaaa;</A>'],
  ])('refuses %s with 400 MalformedXML', async (_case, xml) => {
    expect(await refusal(() => parseXml(xml))).toEqual(MALFORMED);
  });

  it('accepts U+10FFFF, the last code point', () => {
    expect(parseXml('<A>&#x10FFFF;&#1114111;&#0;</A>').text).toBe('\u{10FFFF}\u{10FFFF}\u0000');
  });

  it('takes 16 levels of nesting and refuses 17', async () => {
    const nested = (depth: number) => '<A>'.repeat(depth) + '</A>'.repeat(depth);
    expect(parseXml(nested(16)).name).toBe('A');
    expect(await refusal(() => parseXml(nested(17)))).toEqual(MALFORMED);
  });
});

describe('childText and parseXmlOf', () => {
  it('reads the only child of a name; refuses two; undefined for none', async () => {
    const root = parseXml('<R><K>1</K><L>2</L><L>3</L></R>');
    expect(childText(root, 'K')).toBe('1');
    expect(childText(root, 'M')).toBeUndefined();
    expect(await refusal(() => childText(root, 'L'))).toEqual(MALFORMED);
  });

  it('refuses a document whose root is not the one expected', async () => {
    expect(parseXmlOf(Buffer.from('<Delete></Delete>'), 'Delete').name).toBe('Delete');
    expect(await refusal(() => parseXmlOf(Buffer.from('<CompleteMultipartUpload/>'), 'Delete'))).toEqual(MALFORMED);
  });
});

/*
 * Equivalent mutants of parseXml/decodeText: the BOM skip (trimStart removes U+FEFF too); the `&`-free fast path;
 * the bare-`&` branch and `code >= 0` (both end in MalformedXML or cannot happen by the patterns); `at <= xml.length`;
 * an unclosed `<?xml` (what follows is text outside the root: refused anyway); the decimal pattern's anchors
 * (Number() of anything else is NaN); `close === -1` (an unclosed last tag then fails the name, nesting or `<` check). boundXmlBodies needs a running store: embedded-auth.test.ts covers it.
 */
