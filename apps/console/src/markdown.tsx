/**
 * Renders the run report's Markdown (the subset the report writer emits: headings, paragraphs,
 * lists, tables, code, bold, inline code, links) as elements, never as HTML strings, so nothing
 * in a report can inject markup.
 */
import type { ComponentChildren } from 'preact';

function inline(text: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  const pattern = /(`[^`]+`)|(\*\*[^*]+\*\*)|(\[[^\]]+\]\([^)]+\))|(_[^_]+_)/g;
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    if (m.index! > last) out.push(text.slice(last, m.index));
    const token = m[0];
    if (m[1]) out.push(<code>{token.slice(1, -1)}</code>);
    else if (m[2]) out.push(<strong>{token.slice(2, -2)}</strong>);
    else if (m[3]) {
      const [, label, url] = /^\[([^\]]+)\]\(([^)]+)\)$/.exec(token)!;
      out.push(/^(https?:|\/)/.test(url) ? <a href={url}>{label}</a> : label);
    } else out.push(<em>{token.slice(1, -1)}</em>);
    last = m.index! + token.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

const cells = (row: string) =>
  row
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim().replace(/\\\|/g, '|'));

export function Markdown({ source }: { source: string }) {
  const lines = source.split('\n');
  const blocks: ComponentChildren[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.startsWith('```')) {
      const body: string[] = [];
      for (i++; i < lines.length && !lines[i].startsWith('```'); i++) body.push(lines[i]);
      i++;
      blocks.push(<pre>{body.join('\n')}</pre>);
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      // The page has its own h1 and h2: report headings start one level below.
      const level = Math.min(heading[1].length + 2, 6);
      const Tag = `h${level}` as 'h3';
      blocks.push(<Tag>{inline(heading[2])}</Tag>);
      i++;
      continue;
    }
    if (line.trim().startsWith('|') && lines[i + 1]?.trim().match(/^\|?\s*:?-{3,}/)) {
      const head = cells(line);
      const rows: string[][] = [];
      for (i += 2; i < lines.length && lines[i].trim().startsWith('|'); i++) rows.push(cells(lines[i]));
      blocks.push(
        <div class="table-scroll">
          <table>
            <thead>
              <tr>
                {head.map((h) => (
                  <th scope="col">{inline(h)}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr>
                  {r.map((c) => (
                    <td>{inline(c)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>,
      );
      continue;
    }
    if (/^\s*([-*]|\d+\.)\s+/.test(line)) {
      const ordered = /^\s*\d+\./.test(line);
      const items: string[] = [];
      for (; i < lines.length && /^\s*([-*]|\d+\.)\s+/.test(lines[i]); i++) items.push(lines[i].replace(/^\s*([-*]|\d+\.)\s+/, ''));
      const list = items.map((it) => <li>{inline(it)}</li>);
      blocks.push(ordered ? <ol>{list}</ol> : <ul>{list}</ul>);
      continue;
    }
    if (line.trim() === '') {
      i++;
      continue;
    }
    const para: string[] = [];
    for (; i < lines.length && lines[i].trim() !== '' && !/^(#|```|\s*\||\s*([-*]|\d+\.)\s)/.test(lines[i]); i++) para.push(lines[i]);
    if (para.length === 0) {
      blocks.push(<p>{inline(line)}</p>);
      i++;
    } else blocks.push(<p>{inline(para.join(' '))}</p>);
  }
  return <div class="markdown">{blocks}</div>;
}
