import { describe, expect, it } from 'vitest';
import { nextSlug, slugBelongsTo, toSlug } from '../../src/lib/slug.js';

describe('toSlug', () => {
  it.each([
    ["Cox's Bazar — Sea & Sun!", 'coxs-bazar-sea-and-sun'],
    ['Crème brûlée über Straße', 'creme-brulee-uber-strasse'],
    ['  Sajek   Valley (3 Days)  ', 'sajek-valley-3-days'],
    ['ﬁne ＡＢＣ', 'fine-abc'],
    ['Đà Lạt', 'dja-lat'],
  ])('turns %j into the readable ASCII slug %j', (input, slug) => {
    expect(toSlug(input, 'tour')).toBe(slug);
  });

  it('falls back when nothing transliterates, e.g. Bengali script', () => {
    expect(toSlug('সুন্দরবন', 'tour')).toBe('tour');
    expect(toSlug('!!!', 'tour')).toBe('tour');
  });

  it('cuts long titles at a word boundary', () => {
    const slug = toSlug('word '.repeat(40), 'tour');
    expect(slug.length).toBeLessThanOrEqual(80);
    expect(slug).toMatch(/^(word-)*word$/);
  });
});

describe('nextSlug and slugBelongsTo', () => {
  it('picks the base when free, else one past the highest numeric suffix', () => {
    expect(nextSlug('sylhet', [])).toBe('sylhet');
    expect(nextSlug('sylhet', ['sylhet'])).toBe('sylhet-2');
    expect(nextSlug('sylhet', ['sylhet', 'sylhet-2', 'sylhet-7', 'sylhet-tea'])).toBe('sylhet-8');
  });

  it('recognises a slug as derived from a base only with a numeric suffix', () => {
    expect(slugBelongsTo('dhaka-division', 'dhaka-division')).toBe(true);
    expect(slugBelongsTo('dhaka-division-3', 'dhaka-division')).toBe(true);
    expect(slugBelongsTo('dhaka-division-north', 'dhaka-division')).toBe(false);
    expect(slugBelongsTo('a.b', 'a-b')).toBe(false);
  });
});
