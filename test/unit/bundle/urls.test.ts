import { describe, expect, it } from 'vitest';
import { safeHttpUrl } from '../../../src/bundle/urls.js';

describe('safeHttpUrl', () => {
  const base = 'https://shop.example/models/m/manifest.json';
  it('resolves relative URLs and lets only http(s) through', () => {
    expect(safeHttpUrl('/p/1', base)).toBe('https://shop.example/p/1');
    expect(safeHttpUrl('images/a.png', base)).toBe('https://shop.example/models/m/images/a.png');
    for (const bad of ['javascript:alert(1)', ' JaVaScRiPt:alert(1)', 'data:text/html,<b>', 'blob:https://x/1', 'http://[bad', '']) {
      expect(safeHttpUrl(bad, base), bad).toBeUndefined();
    }
  });
});
