import t from 'tap';
import { selectorMatches } from '../../src/compile/selectors.js';

const labels = { team: 'a', env: 'prod', 'kubernetes.io/metadata.name': 'team-a' };

t.test('matchLabels and matchExpressions are ANDed', async (t) => {
  t.ok(selectorMatches({ matchLabels: {}, matchExpressions: [] }, labels), 'empty selector selects everything');
  t.ok(selectorMatches({ matchLabels: { team: 'a' }, matchExpressions: [] }, labels));
  t.notOk(selectorMatches({ matchLabels: { team: 'b' }, matchExpressions: [] }, labels));
  t.ok(selectorMatches({ matchLabels: {}, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'staging'] }] }, labels));
  t.notOk(selectorMatches({ matchLabels: {}, matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, labels));
  t.ok(selectorMatches({ matchLabels: {}, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, labels), 'NotIn on a missing label matches');
  t.ok(selectorMatches({ matchLabels: {}, matchExpressions: [{ key: 'team', operator: 'Exists', values: [] }] }, labels));
  t.notOk(selectorMatches({ matchLabels: {}, matchExpressions: [{ key: 'tier', operator: 'Exists', values: [] }] }, labels));
  t.ok(selectorMatches({ matchLabels: {}, matchExpressions: [{ key: 'tier', operator: 'DoesNotExist', values: [] }] }, labels));
  t.notOk(
    selectorMatches({ matchLabels: { team: 'a' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['dev'] }] }, labels),
    'both parts must hold',
  );
});
