import { formatMix, OpPicker, parseMix } from './op-mix';

describe('parseMix', () => {
  it.each([
    ['set=50,get=50', { set: 50, get: 50, del: 0 }],
    ['get=1', { set: 0, get: 1, del: 0 }],
    [' set = 1 , del = 3 ', { set: 1, get: 0, del: 3 }],
    ['set=0,get=0,del=7', { set: 0, get: 0, del: 7 }],
  ])('parses %j', (text, mix) => {
    expect(parseMix(text)).toEqual(mix);
  });

  it.each([
    ['', 'is not op=weight'],
    ['set', 'is not op=weight'],
    ['set=-1', 'is not op=weight'],
    ['set=1.5', 'is not op=weight'],
    ['put=1', 'unknown operation "put"'],
    ['set=1,set=2', '"set" is given twice'],
    ['set=0,get=0', 'must add up to more than 0'],
    ['set=1000001', 'at most 1000000'],
  ])('refuses %j', (text, message) => {
    expect(() => parseMix(text)).toThrow(message);
  });

  it('formats a mix without the zero weights', () => {
    expect(formatMix({ set: 10, get: 0, del: 1 })).toBe('set=10,del=1');
  });
});

describe('OpPicker', () => {
  it('draws operations in proportion to their weights', () => {
    const picker = new OpPicker({ set: 1, get: 3, del: 0 });
    const counts = { set: 0, get: 0, del: 0 };
    for (let i = 0; i < 1000; i++) counts[picker.pick(i / 1000)] += 1;
    expect(counts).toEqual({ set: 250, get: 750, del: 0 });
  });
});
