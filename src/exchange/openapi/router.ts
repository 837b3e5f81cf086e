// Path matching: templates compiled into segments, ranked so that literal segments win over templated ones.
import type { CompiledOperation } from './types.ts';

/** literal: the segment as written; pattern: literal text around parameters (`{name}.json`); param: the whole segment. */
type Segment = { kind: 'literal'; text: string } | { kind: 'pattern'; regex: RegExp; names: string[] } | { kind: 'param'; name: string };

export interface Route {
  operation: CompiledOperation;
  segments: Segment[];
  /** Per segment, 0 literal, 1 pattern, 2 param: the lowest vector is the most specific template. */
  ranks: number[];
}

export function compileRoute(operation: CompiledOperation): Route {
  const segments = operation.pathTemplate.split('/').map((text): Segment => {
    const whole = /^\{([^{}]+)\}$/.exec(text);
    if (whole?.[1] !== undefined) return { kind: 'param', name: whole[1] };
    if (!text.includes('{')) return { kind: 'literal', text };
    const names: string[] = [];
    const source = text
      .split(/(\{[^{}]+\})/)
      .map((part) => {
        if (part.startsWith('{') && part.endsWith('}')) {
          names.push(part.slice(1, -1));
          return '(.+?)';
        }
        return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('');
    return { kind: 'pattern', regex: new RegExp(`^${source}$`), names };
  });
  return { operation, segments, ranks: segments.map((s) => (s.kind === 'literal' ? 0 : s.kind === 'pattern' ? 1 : 2)) };
}

export function compareRanks(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return a.length - b.length;
}

export function decodeSegments(path: string): string[] | undefined {
  try {
    return path.split('/').map((segment) => (segment.includes('%') ? decodeURIComponent(segment) : segment));
  } catch {
    return undefined; // malformed percent-encoding: no operation can match
  }
}

export function matchRoute(route: Route, segments: readonly string[]): Record<string, string> | undefined {
  if (route.segments.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const template = route.segments[i];
    const actual = segments[i] ?? '';
    if (template === undefined) return undefined;
    if (template.kind === 'literal') {
      if (template.text !== actual) return undefined;
    } else if (template.kind === 'param') {
      if (actual === '') return undefined; // path parameters are required, so an empty segment cannot fill one
      params[template.name] = actual;
    } else {
      const found = template.regex.exec(actual);
      if (found === null) return undefined;
      template.names.forEach((name, j) => (params[name] = found[j + 1] ?? ''));
    }
  }
  return params;
}
