import { describe, expect, it } from 'vitest';
import { item, pageOf } from '../fixtures';
import { KIND_LABEL, hasEarlier, prependPage } from './timeline';

describe('timeline helpers', () => {
  it('labels every kind in words so colour is not the only signal', () => {
    expect(Object.values(KIND_LABEL)).toEqual(['Client message', 'Reply', 'Internal note', 'Time entry']);
  });

  it('prepends an earlier page and keeps chronological order without duplicates', () => {
    const shown = pageOf([item({ body: 'c' }), item({ body: 'd' })], 2, 4);
    const earlier = pageOf([item({ body: 'a' }), item({ body: 'b' }), item({ body: 'c' })], 0, 4);
    const merged = prependPage(shown, earlier);
    expect(merged.items.map((i) => i.body)).toEqual(['a', 'b', 'c', 'd']);
    expect(merged.start).toBe(0);
    expect(hasEarlier(merged), 'nothing is left before index 0').toBe(false);
    expect(hasEarlier(shown)).toBe(true);
  });
});
