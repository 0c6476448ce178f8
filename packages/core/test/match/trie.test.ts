import t from 'tap';
import { buildPortMatcher } from '../../src/match/http-matcher.js';
import { commonCases } from './common-cases.js';

commonCases(t, buildPortMatcher);
