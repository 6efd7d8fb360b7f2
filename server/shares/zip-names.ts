import { sanitizeFilename } from '../signing/filenames.ts';

/** Names Windows refuses as a file's stem, whatever the extension (`CON.txt` is the console). */
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;
/** Characters Windows refuses in names, and markup: a name is never a tag anywhere it is shown. */
const FORBIDDEN = /[<>:"|?*&'`]/g;

/**
 * One file's name as an entry of a zip every OS can unpack: a plain name, never a path. Path
 * segments (`../../evil.txt`, `/etc/passwd`, `C:\\x`) are flattened, `.` and `..` dropped; control,
 * bidi and markup characters go; Windows' reserved stems (`CON.txt`) and trailing dots and spaces
 * are defused; the length is capped (sanitizeFilename keeps the extension).
 */
export function safeZipName(raw: string): string {
  const flat = raw
    .split(/[/\\]+/)
    .filter((segment) => segment !== '' && segment !== '.' && segment !== '..')
    .join('_');
  let name = sanitizeFilename(flat)
    .replace(FORBIDDEN, '_')
    .replace(/[. ]+$/, '');
  name = name.replace(/^[. ]+/, ''); // no hidden files, no names made of dots
  if (name === '') return 'file';
  const dot = name.indexOf('.');
  const stem = dot === -1 ? name : name.slice(0, dot);
  return RESERVED.test(stem.trim()) ? `_${name}` : name;
}

/**
 * The entries' names for a list of files: each made safe, and duplicates (compared as Windows and
 * macOS do, ignoring case) renamed `name (2).ext`, `name (3).ext`, in order.
 */
export function safeZipNames(names: readonly string[]): string[] {
  const taken = new Set<string>();
  return names.map((raw) => {
    const safe = safeZipName(raw);
    const dot = safe.lastIndexOf('.');
    const [stem, extension] = dot > 0 ? [safe.slice(0, dot), safe.slice(dot)] : [safe, ''];
    let candidate = safe;
    for (let n = 2; taken.has(candidate.toLowerCase()); n++) candidate = `${stem} (${n})${extension}`;
    taken.add(candidate.toLowerCase());
    return candidate;
  });
}
