import { describe, expect, it } from 'vitest';
import { parseModelList } from '../../../src/main/backend/modelList';

describe('parseModelList', () => {
  it.each([
    ['objects with id under models', { models: [{ id: 'dream' }, { id: 'llada' }] }],
    ['objects with model_id', { models: [{ model_id: 'dream' }, { model_id: 'llada' }] }],
    ['objects with name', { models: [{ name: 'dream' }, { name: 'llada' }] }],
    ['names under models', { models: ['dream', 'llada'] }],
    [
      'OpenAI data',
      {
        object: 'list',
        data: [
          { id: 'dream', object: 'model' },
          { id: 'llada', object: 'model' },
        ],
      },
    ],
    ['a bare array', ['dream', { id: 'llada' }]],
  ])('reads %s', (_, json) => {
    expect(parseModelList(json)).toEqual(['dream', 'llada']);
  });

  it('drops duplicates and nameless entries', () => {
    expect(parseModelList({ models: ['a', { id: 'a' }, { size: 3 }, null, 7] })).toEqual(['a']);
  });

  it('returns null for other shapes', () => {
    expect(parseModelList({ status: 'ok' })).toBeNull();
    expect(parseModelList('dream')).toBeNull();
    expect(parseModelList(null)).toBeNull();
  });
});
