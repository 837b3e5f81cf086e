// The XML an office drops, checked before any parser sees it: no DOCTYPE, no entity declaration or reference beyond
// XML's five and character references, no processing instruction but the declaration, no other markup declaration;
// nesting and the number of records bounded. Only then is it parsed, strictly, by xml2js.
import { parseStringPromise } from 'xml2js';

/** Why an XML file is refused before parsing (each a reason in the file's quarantine report). */
export type XmlRefusal = 'doctype' | 'entity' | 'processing-instruction' | 'markup-declaration' | 'encoding' | 'too-deep' | 'too-many-records' | 'malformed';

export class XmlRefusedError extends Error {
  override name = 'XmlRefusedError';
  constructor(
    readonly refusal: XmlRefusal,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

export interface XmlLimits {
  /** Elements open at once, the root included. */
  maxDepth: number;
  /** Elements at depth 2 (the records under the root). */
  maxRecords: number;
}

/** What the scan learned: the line each record (an element at depth 2) starts on, in order. */
export interface XmlScan {
  recordLines: number[];
}

const predefined = new Set(['amp', 'lt', 'gt', 'quot', 'apos']);
const declaration = /^<\?xml(\s+version\s*=\s*(["'])1\.[0-9]\2)?(\s+encoding\s*=\s*(["'])([A-Za-z0-9._-]+)\4)?(\s+standalone\s*=\s*(["'])(yes|no)\7)?\s*\?>/;

/** Each `&…;` in a stretch of text or a tag must be one of XML's five or a character reference. */
function checkReferences(text: string, from: number, to: number, lineAt: (i: number) => number): void {
  for (let i = text.indexOf('&', from); i !== -1 && i < to; i = text.indexOf('&', i + 1)) {
    const m = /^&(#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6}|[A-Za-z_:][A-Za-z0-9._:-]{0,63});/.exec(text.slice(i, i + 72));
    const name = m?.[1];
    if (name === undefined) throw new XmlRefusedError('malformed', lineAt(i), 'an & that does not start a reference (write &amp;)');
    if (!name.startsWith('#') && !predefined.has(name)) throw new XmlRefusedError('entity', lineAt(i), `entity reference &${name}; refused (only &amp; &lt; &gt; &quot; &apos; and character references)`);
  }
}

/**
 * Walks the text once, refusing before any parser runs: a DOCTYPE (and so any internal subset, external entity or
 * entity expansion), an entity reference other than XML's five, a processing instruction other than the leading XML
 * declaration (whose encoding, if named, must be UTF-8), any other `<!` declaration; and nesting deeper than
 * `maxDepth` or more than `maxRecords` records. Comments and CDATA sections are skipped as such. About 60 lines: one
 * loop over the markup, each kind of `<` in turn.
 */
export function scanXml(text: string, limits: XmlLimits): XmlScan {
  const newlines: number[] = [];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) newlines.push(i);
  const lineAt = (index: number): number => {
    let lo = 0;
    let hi = newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((newlines[mid] as number) < index) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
  let i = 0;
  const decl = declaration.exec(text);
  if (decl) {
    const encoding = decl[5];
    if (encoding !== undefined && encoding.toLowerCase() !== 'utf-8') throw new XmlRefusedError('encoding', 1, `encoding ${encoding} refused: the file must be UTF-8`);
    i = decl[0].length;
  }
  let depth = 0;
  const recordLines: number[] = [];
  while (i < text.length) {
    const open = text.indexOf('<', i);
    checkReferences(text, i, open === -1 ? text.length : open, lineAt);
    if (open === -1) break;
    const rest = text.slice(open, open + 10);
    if (rest.startsWith('<!--')) {
      const end = text.indexOf('-->', open + 4);
      if (end === -1) throw new XmlRefusedError('malformed', lineAt(open), 'a comment that is not closed');
      i = end + 3;
    } else if (rest.startsWith('<![CDATA[')) {
      const end = text.indexOf(']]>', open + 9);
      if (end === -1) throw new XmlRefusedError('malformed', lineAt(open), 'a CDATA section that is not closed');
      i = end + 3;
    } else if (/^<!DOCTYPE/i.test(rest)) {
      throw new XmlRefusedError('doctype', lineAt(open), 'a DOCTYPE is refused (no DTD, no entity declarations)');
    } else if (/^<!ENTITY/i.test(rest)) {
      throw new XmlRefusedError('entity', lineAt(open), 'an entity declaration is refused');
    } else if (rest.startsWith('<!')) {
      throw new XmlRefusedError('markup-declaration', lineAt(open), `markup declaration ${JSON.stringify(rest.slice(0, 9))} refused`);
    } else if (rest.startsWith('<?')) {
      throw new XmlRefusedError('processing-instruction', lineAt(open), 'a processing instruction is refused (only the XML declaration, first in the file)');
    } else {
      // A start or end tag: up to its `>`, quoted attribute values (which may hold `>`) skipped.
      let j = open + 1;
      let quote: string | undefined;
      for (; j < text.length; j++) {
        const ch = text[j];
        if (quote !== undefined) {
          if (ch === quote) quote = undefined;
        } else if (ch === '"' || ch === "'") quote = ch;
        else if (ch === '>') break;
      }
      if (j >= text.length) throw new XmlRefusedError('malformed', lineAt(open), 'a tag that is not closed');
      checkReferences(text, open, j, lineAt);
      if (text[open + 1] === '/') depth--;
      else if (text[j - 1] !== '/') {
        depth++;
        if (depth > limits.maxDepth) throw new XmlRefusedError('too-deep', lineAt(open), `nested deeper than ${limits.maxDepth} elements`);
        if (depth === 2) {
          recordLines.push(lineAt(open));
          if (recordLines.length > limits.maxRecords) throw new XmlRefusedError('too-many-records', lineAt(open), `more than ${limits.maxRecords} records`);
        }
      } else if (depth + 1 === 2) {
        recordLines.push(lineAt(open));
        if (recordLines.length > limits.maxRecords) throw new XmlRefusedError('too-many-records', lineAt(open), `more than ${limits.maxRecords} records`);
      }
      i = j + 1;
    }
  }
  return { recordLines };
}

/** An element as xml2js gives it with `explicitArray`: text, or an object of attributes (`$`), text (`_`) and children. */
export type XmlNode = string | { $?: Record<string, string>; _?: string; [child: string]: unknown };

/** Scans (refusing what `scanXml` refuses), then parses strictly: the root's name and element. */
export async function parseOfficeXml(text: string, limits: XmlLimits): Promise<{ scan: XmlScan; rootName: string; root: XmlNode }> {
  const scan = scanXml(text, limits);
  let parsed: Record<string, XmlNode>;
  try {
    parsed = (await parseStringPromise(text, { strict: true, explicitArray: true, explicitRoot: true, trim: false, normalize: false })) as Record<string, XmlNode>;
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] ?? 'not well-formed' : 'not well-formed';
    const line = /Line: (\d+)/.exec(err instanceof Error ? err.message : '')?.[1];
    throw new XmlRefusedError('malformed', line ? Number(line) + 1 : 1, `not well-formed XML: ${message}`);
  }
  const names = Object.keys(parsed ?? {});
  if (names.length !== 1) throw new XmlRefusedError('malformed', 1, 'no root element');
  const rootName = names[0] as string;
  return { scan, rootName, root: parsed[rootName] as XmlNode };
}
