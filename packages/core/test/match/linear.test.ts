import t from 'tap';
import { buildLinearMatcher } from '../../src/match/linear.js';
import { commonCases } from './common-cases.js';

commonCases(t, buildLinearMatcher);
