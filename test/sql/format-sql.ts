/**
 * Lays SQL out for review: one clause per line, one selected (or set, returned, grouped, ordered) item per line,
 * long subqueries indented under their parenthesis. Whitespace is all it changes, so two statements format
 * alike exactly when they are the same SQL (up to whitespace).
 */

const CLAUSES = [
  'with',
  'select',
  'from',
  'inner join',
  'left join',
  'cross join',
  'join',
  'where',
  'group by',
  'having',
  'order by',
  'limit',
  'offset',
  'insert into',
  'values',
  'on conflict',
  'do update set',
  'update',
  'delete from',
  'set',
  'returning',
  'union',
  'for update',
];
/** Clauses whose items (columns, assignments, common table expressions) go one per line. */
const LISTS = new Set(['with', 'select', 'returning', 'do update set', 'set', 'group by', 'order by']);
/** A parenthesised query longer than this gets its own lines. */
const INLINE_SUBQUERY_MAX = 60;

/** `space`: whether the source had whitespace before the token (kept as one space, unless a line starts). */
type Token = { kind: 'word' | 'quoted' | 'open' | 'close' | 'comma' | 'other'; text: string; space: boolean };

function tokenize(sqlText: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let space = false;
  const push = (kind: Token['kind'], text: string) => {
    tokens.push({ kind, text, space });
    space = false;
    i += text.length;
  };
  while (i < sqlText.length) {
    const c = sqlText[i]!;
    if (/\s/.test(c)) {
      space = true;
      i++;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < sqlText.length && !(sqlText[j] === c && sqlText[j + 1] !== c)) j += sqlText[j] === c ? 2 : 1;
      push('quoted', sqlText.slice(i, j + 1));
    } else if (c === '(' || c === ')' || c === ',') {
      push(c === '(' ? 'open' : c === ')' ? 'close' : 'comma', c);
    } else if (/[\w$]/.test(c)) {
      push('word', /^[\w$]+/.exec(sqlText.slice(i))![0]);
    } else {
      push('other', /^[^\s\w$'"(),]+/.exec(sqlText.slice(i))![0]);
    }
  }
  return tokens;
}

/** The clause starting at token `at`, if any (longest match). */
function clauseAt(tokens: Token[], at: number): string | undefined {
  for (const clause of [...CLAUSES].sort((a, b) => b.length - a.length)) {
    const words = clause.split(' ');
    if (words.every((w, k) => tokens[at + k]?.kind === 'word' && tokens[at + k]!.text.toLowerCase() === w)) {
      return clause;
    }
  }
  return undefined;
}

/** The text between the parenthesis at `open` and its match, tokens joined by single spaces. */
function parenthesised(tokens: Token[], open: number): string {
  let depth = 0;
  const parts: string[] = [];
  for (let k = open; k < tokens.length; k++) {
    if (tokens[k]!.kind === 'open') depth++;
    if (tokens[k]!.kind === 'close') depth--;
    parts.push(tokens[k]!.text);
    if (depth === 0) break;
  }
  return parts.join(' ');
}

export function formatSql(sqlText: string): string {
  const tokens = tokenize(sqlText);
  // One frame per open parenthesis; a query frame (a long subquery) lays out its own clauses.
  const frames: { query: boolean; indent: string; clause?: string }[] = [{ query: true, indent: '' }];
  let out = '';
  let lineStart = true;
  const newline = (indent: string) => {
    out = `${out.trimEnd()}\n${indent}`;
    lineStart = true;
  };
  const emit = (text: string, glue: boolean) => {
    if (!lineStart && !glue) out += ' ';
    out += text;
    lineStart = false;
  };

  for (let k = 0; k < tokens.length; k++) {
    const token = tokens[k]!;
    const frame = frames[frames.length - 1]!;
    const clause = frame.query ? clauseAt(tokens, k) : undefined;
    if (clause) {
      if (out !== '') newline(frame.indent);
      emit(
        tokens
          .slice(k, k + clause.split(' ').length)
          .map((t) => t.text)
          .join(' '),
        false,
      );
      k += clause.split(' ').length - 1;
      frame.clause = clause;
      continue;
    }
    // A long subquery's closing parenthesis follows its last clause directly.
    emit(token.text, !token.space || (token.kind === 'close' && frame.query && frames.length > 1));
    if (token.kind === 'open') {
      const next = tokens[k + 1];
      const startsQuery = next?.kind === 'word' && /^(select|with|insert|delete|update)$/i.test(next.text);
      const query = startsQuery && parenthesised(tokens, k).length > INLINE_SUBQUERY_MAX;
      // A subquery is indented under the line it opens on.
      const lineIndent = /[^\n]*$/.exec(out)![0].match(/^ */)![0];
      frames.push({ query, indent: query ? `${lineIndent}  ` : frame.indent });
    } else if (token.kind === 'close') {
      if (frames.length > 1) frames.pop();
    } else if (token.kind === 'comma' && frame.query && frame.clause && LISTS.has(frame.clause)) {
      newline(`${frame.indent}  `);
    }
  }
  return `${out.trim()}\n`;
}
