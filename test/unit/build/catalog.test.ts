import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { invalidReport, parseItem, readCatalog } from '../../../src/build/catalog.js';

const dir = mkdtempSync(join(tmpdir(), 'vitrine-catalog-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('readCatalog', () => {
  it('reads CSV with quoted fields, keeps unknown columns as attributes, maps common header spellings', async () => {
    const items = await readCatalog(file('ok.csv', 'SKU,Name,Link,Image URL,price,currency,category,brand,in_stock,colour\nA1,"Boots, black",/p/a1,a1.jpg,59.95,eur,Boots,Acme,yes,black\nA2,Sneaker,/p/a2,https://cdn.example/a2.webp,,,Shoes,,0,white\n'));
    expect(items).toEqual([
      { id: 'A1', title: 'Boots, black', url: '/p/a1', image: 'a1.jpg', price: 59.95, currency: 'EUR', category: 'Boots', brand: 'Acme', inStock: true, attributes: { colour: 'black' }, line: 2 },
      { id: 'A2', title: 'Sneaker', url: '/p/a2', image: 'https://cdn.example/a2.webp', price: undefined, currency: undefined, category: 'Shoes', brand: undefined, inStock: false, attributes: { colour: 'white' }, line: 3 },
    ]);
  });

  it('reads JSON lines, keeping attribute types', async () => {
    const items = await readCatalog(file('ok.jsonl', '{"id":"B1","title":"Mug","url":"/b1","image":"b1.png","price":4,"category":"Kitchen","size_ml":330,"dishwasher":true}\n'));
    expect(items[0]).toMatchObject({ id: 'B1', price: 4, attributes: { size_ml: 330, dishwasher: true } });
  });

  it('builds URLs from --url-template when the catalog has none', async () => {
    const items = await readCatalog(file('nourl.csv', 'id,title,image\nC/1,Cup,c.png\n'), { urlTemplate: '/products/{id}' });
    expect(items[0]!.url).toBe('/products/C%2F1');
  });

  it('reports every broken row with file, line and reason, then fails', async () => {
    const path = file('broken.csv', 'id,title,url,image,price,currency\nA,Ok,/a,a.png,1,EUR\n,No id,/b,b.png,1,EUR\nC,Bad price,/c,c.png,12€,EUR\nA,Again,/a2,a2.png,1,EUR\nD,Too,many,fields,1,EUR,x\nE,Money,/e,e.png,3,euros\nF,Script,javascript:alert(1),f.png,1,EUR\n');
    const err = await readCatalog(path).catch((e) => e);
    expect(err.name).toBe('UserError');
    expect(err.message).toContain(`the catalog ${path} is broken: 6 problems`);
    expect(err.message).toContain('broken.csv line 3: id is missing');
    expect(err.message).toContain('broken.csv line 4: price "12€" is not a number like 12.95');
    expect(err.message).toContain('broken.csv line 5: id "A" is used already on line 2');
    expect(err.message).toContain('broken.csv line 6: has 7 fields, the header has 6');
    expect(err.message).toContain('broken.csv line 7: currency "EUROS" is not a 3-letter ISO 4217 code');
    expect(err.message).toContain('broken.csv line 8: url "javascript:alert(1)" is not http(s) or relative');
  });

  it('reads decimal commas in a ;-delimited file (129,00 and 1.299,00), and only there', async () => {
    const items = await readCatalog(file('de.csv', 'id;title;url;image;price;currency\nA;Stiefel;/p/a;a.jpg;129,00;EUR\nB;Mantel;/p/b;b.jpg;1.299,50;EUR\nC;Hut;/p/c;c.jpg;12.95;EUR\n'));
    expect(items.map((it) => it.price)).toEqual([129, 1299.5, 12.95]);
    await expect(readCatalog(file('us.csv', 'id,title,url,image,price\nA,Boots,/p/a,a.jpg,"129,00"\n'))).rejects.toThrow(/us\.csv line 2: price "129,00" is not a number like 12\.95/);
    await expect(readCatalog(file('de-bad.csv', 'id;title;url;image;price\nA;Stiefel;/p/a;a.jpg;12,9,5\n'))).rejects.toThrow(/line 2: price "12,9,5" is not a number like 12,95 or 12\.95/);
  });

  it('with onInvalid (--skip-invalid), leaves broken rows out and says which and why instead of failing', async () => {
    const invalid: { line: number; id?: string; reason: string }[] = [];
    const items = await readCatalog(file('feed.csv', 'id,title,url,image,price\nA,Boots,/p/a,a.jpg,10\nB,,/p/b,b.jpg,11\nA,Again,/p/a2,a2.jpg,12\nC,Coat,/p/c,c.jpg,cheap\n"D,Hat\n'), { onInvalid: (r) => invalid.push(r) });
    expect(items.map((it) => it.id)).toEqual(['A']);
    expect(invalid).toEqual([
      { line: 3, id: 'B', reason: 'title is missing' },
      { line: 4, id: 'A', reason: 'id "A" is used already on line 2' },
      { line: 5, id: 'C', reason: 'price "cheap" is not a number like 12.95' },
      { line: 6, reason: expect.stringMatching(/quote|fields/) },
    ]);
    expect(invalidReport(invalid).split('\n').slice(0, 3)).toEqual(['line,id,reason', '3,B,title is missing', '4,A,"id ""A"" is used already on line 2"']);
  });

  it('keeps hostile titles as text but refuses every URL a browser would not read as http(s), naming the line', async () => {
    const rows = [
      ['A', '<script>alert(1)</script>', '/a'],
      ['B', '<img src=x onerror=alert(1)>', 'https://shop.example/b'],
      ['C', 'tab', 'java\tscript:alert(1)'],
      ['D', 'control', '\u0001javascript:alert(1)'],
      ['E', 'data', 'data:text/html,<b>x</b>'],
      ['F', 'vb', 'VBScript:msgbox(1)'],
      ['G', 'relative, odd', '/p?q=<script>'],
    ];
    const body = rows.map(([id, title, url]) => JSON.stringify({ id, title, url, image: `${id}.png` })).join('\n');
    const err = await readCatalog(file('hostile.jsonl', body)).catch((e) => e);
    expect(err.message).toContain('4 problems');
    for (const line of [3, 4, 5, 6]) expect(err.message).toMatch(new RegExp(`hostile\\.jsonl line ${line}: url .* is not http\\(s\\) or relative`));
    const ok = await readCatalog(file('fine.jsonl', [rows[0], rows[1], rows[6]].map(([id, title, url]) => JSON.stringify({ id, title, url, image: 'x.png' })).join('\n')));
    expect(ok.map((it) => it.title)).toEqual(['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', 'relative, odd']);
  });

  it('fails on a header without the required columns, naming the columns there are', async () => {
    await expect(readCatalog(file('nohead.csv', 'sku,label\n1,x\n'))).rejects.toThrow(/line 1: no title column \(columns are: sku, label\)/);
    await expect(readCatalog(file('empty.csv', 'id,title,image\n'))).rejects.toThrow(/has no products/);
    await expect(readCatalog(file('bad.jsonl', '{"id":"a"\n[1]\n'))).rejects.toThrow(/line 1: not valid JSON[\s\S]*line 2: is not a JSON object/);
  });
});

describe('parseItem', () => {
  it('reads in_stock spellings and refuses unknown ones', () => {
    const base = { id: 'x', title: 't', url: '/x', image: 'x.png' };
    expect((parseItem({ ...base, in_stock: 'Out of stock' }, 1) as { inStock: boolean }).inStock).toBe(false);
    expect((parseItem({ ...base, in_stock: true }, 1) as { inStock: boolean }).inStock).toBe(true);
    expect(parseItem({ ...base, in_stock: 'maybe' }, 1)).toEqual(['in_stock "maybe" is not one of true/false, yes/no, 1/0']);
    expect(parseItem({ ...base, id: 'x'.repeat(300) }, 1)).toEqual(['id is longer than 256 characters']);
  });
});
