import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTable, parseDelimited, readJsonLines, sniffDelimiter, type TableRow } from '../../../src/build/table.js';

async function* chunksOf(text: string, ...cuts: number[]): AsyncGenerator<string> {
  let at = 0;
  for (const c of [...cuts, text.length]) {
    yield text.slice(at, c);
    at = c;
  }
}
const all = async (rows: AsyncIterable<TableRow>) => {
  const out: TableRow[] = [];
  for await (const r of rows) out.push(r);
  return out;
};

const tricky = 'id,title,note\r\n1,"Boots, black","He said ""hi"""\r\n\r\n2,"two\nlines",""""\n3,plain,\n4,"x"y,z\n';

describe('parseDelimited', () => {
  it('reads quoted fields, doubled quotes, embedded newlines and CRLF, numbering physical lines', async () => {
    const rows = await all(parseDelimited(chunksOf(tricky), ','));
    expect(rows.map((r) => [r.line, r.fields, r.error])).toEqual([
      [1, ['id', 'title', 'note'], undefined],
      [2, ['1', 'Boots, black', 'He said "hi"'], undefined],
      [4, ['2', 'two\nlines', '"'], undefined],
      [6, ['3', 'plain', ''], undefined],
      [7, ['4', 'xy', 'z'], 'unexpected text after a closing quote in column 2'],
    ]);
  });

  it('gives the same records however the stream is cut into chunks', async () => {
    const whole = await all(parseDelimited(chunksOf(tricky), ','));
    for (let a = 1; a < tricky.length; a++) {
      for (const b of [a + 1, a + 2, a + 7]) {
        if (b >= tricky.length) continue;
        expect(await all(parseDelimited(chunksOf(tricky, a, b), ',')), `cut at ${a}, ${b}`).toEqual(whole);
      }
    }
  });

  it('reports a quoted field that never closes', async () => {
    const rows = await all(parseDelimited(chunksOf('a,b\n1,"open\n2,3\n'), ','));
    expect(rows[1]).toMatchObject({ line: 2, error: 'a quoted field is never closed' });
  });
});

describe('openTable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vitrine-table-'));
  it('sniffs tabs, strips a byte-order mark and trims header names', async () => {
    const path = join(dir, 'e.tsv');
    writeFileSync(path, '\ufeffsession_id\t product_id \ttimestamp\ns1\tp1\t1700000000\n');
    const t = await openTable(path);
    expect(t.delimiter).toBe('\t');
    expect(t.header).toEqual(['session_id', 'product_id', 'timestamp']);
    expect((await all(t.rows)).map((r) => r.fields)).toEqual([['s1', 'p1', '1700000000']]);
  });

  it('says what is wrong with a missing or empty file, in words', async () => {
    await expect(openTable(join(dir, 'nope.csv'))).rejects.toThrow(/nope\.csv: no such file/);
    writeFileSync(join(dir, 'empty.csv'), '\n');
    await expect(openTable(join(dir, 'empty.csv'))).rejects.toThrow(/empty\.csv: is empty/);
  });

  it('sniffDelimiter prefers the separator that yields most columns', () => {
    expect(sniffDelimiter('a;b;c')).toBe(';');
    expect(sniffDelimiter('a,b;c,d')).toBe(',');
    expect(sniffDelimiter('single')).toBe(',');
  });
});

describe('readJsonLines', () => {
  it('parses each line and names the bad ones', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'vitrine-jsonl-')), 'c.jsonl');
    writeFileSync(path, '{"id":"a"}\n\n{oops}\n{"id":"b","price":3}');
    const lines = [];
    for await (const l of readJsonLines(path)) lines.push(l);
    expect(lines.map((l) => [l.line, l.value ?? l.error?.slice(0, 14)])).toEqual([[1, { id: 'a' }], [3, 'not valid JSON'], [4, { id: 'b', price: 3 }]]);
  });
});
