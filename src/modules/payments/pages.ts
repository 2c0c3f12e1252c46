/**
 * The small HTML pages the payments module serves itself: the local gateway's payment page and, without a
 * front end, the result pages the payer lands on. One style, readable on a 360 px phone screen.
 */

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** No scripts at all; only the inline styles below; forms post back to this server. */
export const PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// Long unbroken values (transaction ids) wrap instead of widening the page; `dd` loses its default indent.
const STYLE = `*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.4}
.card{border:1px solid #ddd;border-radius:8px;padding:1.25rem}
h1{font-size:1.5rem;margin:0 0 .5rem}
dl{display:grid;grid-template-columns:auto minmax(0,1fr);gap:.4rem 1rem}dt{color:#666}
dd{margin:0;min-width:0;overflow-wrap:anywhere}code{word-break:break-all}
form{display:inline-block;margin:1rem .5rem 0 0}button{font-size:1rem;padding:.6rem 1.2rem;cursor:pointer}
.pay{background:#1a7f37;color:#fff;border:0;border-radius:4px}.note{color:#a40e26}
.ok{color:#1a7f37}.bad{color:#a40e26}.wait{color:#9a6700}
small{color:#666}`;

/** A whole page around `body` (already escaped HTML). */
export function renderPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
${STYLE}
</style>
</head>
<body>
<div class="card">
${body}
</div>
</body>
</html>`;
}

/** A definition list of label → value, each value escaped; empty values are left out. */
export function details(rows: [label: string, value: string | undefined, code?: boolean][]): string {
  const items = rows
    .filter(([, value]) => value !== undefined && value !== '')
    .map(([label, value, code]) => {
      const shown = escapeHtml(value!);
      return `<dt>${escapeHtml(label)}</dt><dd>${code ? `<code>${shown}</code>` : shown}</dd>`;
    });
  return `<dl>\n${items.join('\n')}\n</dl>`;
}
