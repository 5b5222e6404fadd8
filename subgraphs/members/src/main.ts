import { exitOnError, runSubgraph } from '@loyalty-graph/shared';
import { membersSubgraph } from './server';

runSubgraph(membersSubgraph).catch(exitOnError);
